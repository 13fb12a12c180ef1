/** What delivery needs to know about an endpoint to decide whether an event goes to it. */
export type EndpointFilter = {
  status: string;
  enabled_events: readonly string[];
  /** A Connect endpoint receives its connected accounts' events, not its own account's. */
  connect: boolean;
};

/** Where an event comes from, seen from the account an endpoint belongs to. */
export type EventOrigin = 'own_account' | 'connected_account';

/** `'*'` listens to everything; otherwise the type must be listed. */
export function listensTo(enabledEvents: readonly string[], eventType: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(eventType);
}

/**
 * Whether an endpoint gets an event: it must be enabled, listen to the type, and be on the right side
 * of Connect — an account endpoint gets its own account's events, a Connect endpoint those of the
 * accounts connected to its platform.
 */
export function receives(endpoint: EndpointFilter, eventType: string, origin: EventOrigin): boolean {
  return (
    endpoint.status === 'enabled' &&
    endpoint.connect === (origin === 'connected_account') &&
    listensTo(endpoint.enabled_events, eventType)
  );
}
