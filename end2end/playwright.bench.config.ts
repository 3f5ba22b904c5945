import base from './playwright.config';
import { defineConfig } from '@playwright/test';

// Benchmarks: run by scripts/bench-call.sh, never by the test suite.
export default defineConfig({ ...base, testDir: './bench', timeout: 600_000 });
