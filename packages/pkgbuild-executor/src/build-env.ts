/** The safe PATH given to PKGBUILD code unless `env.PATH` overrides it. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** makepkg's CARCH for the machine we run on. */
export function hostCarch(): string {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'i686';
    case 'arm':
      return 'armv7h';
    case 'riscv64':
      return 'riscv64';
    case 'loong64':
      return 'loong64';
    default:
      return process.arch;
  }
}

/** The CHOST Arch's makepkg.conf (or Arch Linux ARM's) sets for a CARCH. */
export function defaultChost(carch: string): string {
  switch (carch) {
    case 'x86_64':
    case 'x86_64_v2':
    case 'x86_64_v3':
    case 'x86_64_v4':
      return 'x86_64-pc-linux-gnu';
    case 'i686':
    case 'pentium4':
      return 'i686-pc-linux-gnu';
    case 'aarch64':
      return 'aarch64-unknown-linux-gnu';
    case 'armv7h':
      return 'armv7l-unknown-linux-gnueabihf';
    case 'armv6h':
      return 'armv6l-unknown-linux-gnueabihf';
    case 'riscv64':
      return 'riscv64-unknown-linux-gnu';
    case 'loong64':
    case 'loongarch64':
      return 'loongarch64-unknown-linux-gnu';
    default:
      return `${carch}-unknown-linux-gnu`;
  }
}

/**
 * Compiler flags as Arch's makepkg.conf (pacman 6.1/7.0) sets them for `carch`; other
 * architectures get a portable `-O2 -pipe` set.
 */
export function defaultBuildFlags(carch: string): Record<string, string> {
  const hardening =
    '-fno-plt -fexceptions -Wp,-D_FORTIFY_SOURCE=3 -Wformat -Werror=format-security -fstack-clash-protection';
  let cflags: string;
  if (carch === 'x86_64') {
    cflags = `-march=x86-64 -mtune=generic -O2 -pipe ${hardening} -fcf-protection -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer`;
  } else if (carch === 'aarch64') {
    cflags = `-march=armv8-a -O2 -pipe ${hardening} -fno-omit-frame-pointer`;
  } else {
    cflags = '-O2 -pipe';
  }
  return {
    CPPFLAGS: '',
    CFLAGS: cflags,
    CXXFLAGS: `${cflags} -Wp,-D_GLIBCXX_ASSERTIONS`,
    LDFLAGS: '-Wl,-O1 -Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now',
    LTOFLAGS: '-flto=auto',
    RUSTFLAGS: '-Cforce-frame-pointers=yes',
  };
}

/** Environment variables a caller may not smuggle into the driver's own namespace. */
export function isReservedName(name: string): boolean {
  return name.startsWith('__rbee_') || name.startsWith('RBEE_EXECUTOR_');
}

export function validateEnv(env: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!env) return out;
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new TypeError(`env: invalid variable name ${JSON.stringify(k)}`);
    if (isReservedName(k)) throw new TypeError(`env: ${k} is reserved by the executor`);
    if (typeof v !== 'string') throw new TypeError(`env: ${k} must be a string`);
    if (v.includes('\0')) throw new TypeError(`env: ${k} contains a NUL byte`);
    out[k] = v;
  }
  return out;
}
