#!/usr/bin/env -S node --max-semi-space-size=16 --v8-pool-size=1 --heap-growing-percent=300
import '../src/cli/main.ts';
