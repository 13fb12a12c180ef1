import type pg from 'pg';

type PlanNode = {
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
};

/** Every row a plan's nodes produced or filtered out, over all their loops: the work it did. */
const rowsTouched = (node: PlanNode): number =>
  (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Join Filter'] ?? 0)) *
    node['Actual Loops'] +
  (node.Plans ?? []).reduce((sum, child) => sum + rowsTouched(child), 0);

/**
 * A client for code under test that runs each of its statements under `explain analyze` on `client`
 * (so they still take effect) and notes the rows each touched, in order. Every statement answers no
 * rows, so it suits code that makes one statement, or whose statements' answers do not matter.
 */
export function explainingClient(client: pg.PoolClient) {
  const touched: number[] = [];
  const explaining = {
    query: async (text: string, values?: unknown[]) => {
      const { rows } = await client.query(`explain (analyze, format json) ${text}`, values);
      touched.push(rowsTouched(rows[0]['QUERY PLAN'][0].Plan));
      return { rows: [], rowCount: 0 };
    },
  } as unknown as pg.PoolClient;
  return { client: explaining, touched };
}
