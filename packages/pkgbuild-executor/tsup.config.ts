import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
  platform: 'node',
  // the bash drivers are read at run time from next to the bundle
  onSuccess: 'cp src/inspect-driver.sh src/run-driver.sh src/makepkg-lib.sh dist/',
});
