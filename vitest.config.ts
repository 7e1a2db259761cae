import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The engine checks at every block lookup that the CPU's cached translation flags
    // equal flags computed afresh (src/accel/tcg/engine.ts); qemu-ts processes the
    // tests spawn inherit it.
    env: { QEMU_TS_CHECK_FLAGS: '1' },
    hookTimeout: 300_000,
    // Differential tests spawn QEMU and qemu-ts processes; two cores only.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
