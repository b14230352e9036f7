/**
 * A fast-check grammar of PKGBUILDs built from the constructs the static evaluator must settle:
 * helper variables, every quoting form, parameter-expansion operators, arrays with word
 * splitting, brace expansion, arithmetic, `+=`, `if`/`case`/`for` on CARCH and on known values,
 * arch-specific arrays and split packages with overrides. Values are drawn so that makepkg's lint
 * usually accepts them (dependency names stay within `[a-z0-9+_.@-]`).
 */
import fc from 'fast-check';

const ident = fc.constantFrom('foo', 'bar', 'baz', 'qux', 'lib', 'py', 'rbee', 'cuda', 'x');
const verPart = fc.constantFrom('1', '2', '10', '0', '3', 'rc1', 'beta');
/** A version-ish string such as `foo-1.2.rc1`. */
const dotted = fc
  .tuple(ident, fc.array(verPart, { minLength: 1, maxLength: 3 }))
  .map(([n, parts]) => `${n}-${parts.join('.')}`);
const textWord = fc.constantFrom('fast', 'tool', 'A', 'for', 'GPU', 'workers', 'ü', '日本', '%s', 'a\\b', '#x', '50%');

/** Expansions of `_v` (a dotted string) whose result stays a valid package-name fragment. */
const nameExpansion = fc.constantFrom(
  '${_v}', '$_v', '${_v%%-*}', '${_v%.*}', '${_v#*-}', '${_v##*.}', '${_v/-/_}', '${_v//./}',
  '${_v^^}', '${_v,,}', '${_v^}', '${_v:0:3}', '${_v: -2}', '${_v:1}', '${#_v}', '${_v:-dflt}',
  '${_u:-dflt}', '${_u:+alt}', '${_v:+alt}', '${_v/#f/F}', '${_v/%1/one}', '${_v%[0-9]}',
  '${_v//[[:digit:]]/n}', '${_arr[1]}', '${_arr[-1]}', '${#_arr[@]}', '$((_n+1))', '$((_n*3%7))',
  '${_v/[aeiou]/}', '${_v%%[.-]*}',
);
/** Quoting forms of a name-valued word: `lib<expansion>` in some quoting. */
const nameWord = fc.oneof(
  ident,
  fc.tuple(ident, nameExpansion).map(([i, e]) => `${i}${e}`),
  fc.tuple(ident, nameExpansion).map(([i, e]) => `"${i}${e}"`),
  fc.tuple(ident, ident).map(([a, b]) => `'${a}-${b}'`),
  fc.tuple(ident, ident).map(([a, b]) => `$'${a}\\x2d${b}'`),
  fc.tuple(ident, ident, ident).map(([a, b, c]) => `${a}{${b},${c}}`),
  fc.tuple(ident, fc.integer({ min: 1, max: 3 })).map(([a, n]) => `${a}{1..${n}}`),
  fc.constant('${_arr[@]}'),
  fc.constant('"${_arr[@]/#/py-}"'),
  fc.constant('${_list}'),
  fc.constantFrom('${_u:-"q r"}', '${_v:+"s t"}', "${_u-'u v'}"),
  fc.constant('"${_arr[@]%%[0-9]}"'),
);
const descWord = fc.oneof(textWord, nameExpansion, fc.constantFrom('$pkgname', '${pkgver}', '$CARCH', '"$_list"'));
/** A pkgdesc value in one of the quoting forms, possibly with tabs/newlines/runs of spaces. */
const descValue = fc.oneof(
  fc.array(descWord, { minLength: 1, maxLength: 4 }).map((w) => `"${w.join(' ')}"`),
  fc.array(textWord, { minLength: 1, maxLength: 4 }).map((w) => `'${w.join('   ')}'`),
  fc.array(textWord, { minLength: 1, maxLength: 3 }).map((w) => `"${w.join('\t\n  ')}"`),
  fc.array(textWord, { minLength: 1, maxLength: 3 }).map((w) => `$'${w.join('\\t')}'`),
  fc.tuple(textWord, nameExpansion).map(([t, e]) => `${t.replace(/[#%\\]/g, 'q')}-${e}`),
);
const arrayKey = fc.constantFrom('depends', 'makedepends', 'checkdepends', 'provides', 'conflicts', 'replaces', 'groups', 'license', 'optdepends');
const archArrayKey = fc.constantFrom('depends', 'makedepends', 'provides', 'conflicts', 'optdepends', 'source');
const array = fc.array(nameWord, { minLength: 0, maxLength: 4 }).map((ws) => `(${ws.join(' ')})`);
const arrayMultiline = fc
  .array(nameWord, { minLength: 1, maxLength: 3 })
  .map((ws) => `(\n  ${ws.join('  # note\n  ')}\n)`);

const assignment = fc.oneof(
  fc.tuple(arrayKey, fc.oneof(array, arrayMultiline)).map(([k, v]) => `${k}=${v}`),
  fc.tuple(arrayKey, array).map(([k, v]) => `${k}+=${v}`),
  descValue.map((v) => `pkgdesc=${v}`),
  descValue.map((v) => `pkgdesc+=${v}`),
  fc.tuple(fc.constantFrom('x86_64', 'aarch64'), archArrayKey, array).map(([a, k, v]) => `${k}_${a}=${v}`),
  fc.tuple(fc.constantFrom('x86_64', 'aarch64'), archArrayKey, array).map(([a, k, v]) => `${k}_${a}+=${v}`),
  dotted.map((d) => `_v=${d}`),
  fc.integer({ min: 0, max: 9 }).map((n) => `_n=${n}`),
  fc.constantFrom('url="https://example.org/${_v}"', 'url=https://e.org/$pkgname', 'epoch=$((_n%3))', 'pkgrel=$((_n+1))'),
);
const carchCond = fc.constantFrom(
  '[[ $CARCH == x86_64 ]]', '[[ $CARCH = aarch64 ]]', '[ "$CARCH" = "x86_64" ]', '[[ $CARCH == *64 ]]',
  '[[ $_n -gt 4 ]]', '(( _n > 2 ))', '[[ $_v == foo* ]]', '[[ -n $_u ]]', '[[ $_v =~ ^[a-z]+- ]]',
);
const statement: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: assignment },
  {
    weight: 1,
    arbitrary: fc
      .tuple(carchCond, assignment, fc.option(assignment, { nil: undefined }))
      .map(([c, a, b]) => `if ${c}; then\n  ${a}\n${b === undefined ? '' : `else\n  ${b}\n`}fi`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(assignment, assignment)
      .map(([a, b]) => `case $CARCH in\n  x86_64) ${a} ;;\n  arm*|aarch64) ${b} ;;\n  *) ;;\nesac`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(ident, { minLength: 1, maxLength: 3 }), arrayKey)
      .map(([xs, k]) => `for _i in ${xs.join(' ')}; do\n  ${k}+=("lib$_i")\ndone`),
  },
);

const overrideLine = fc.oneof(
  fc.tuple(fc.constantFrom('depends', 'provides', 'conflicts', 'groups', 'license', 'optdepends', 'replaces'), array).map(([k, v]) => `${k}=${v}`),
  fc.tuple(fc.constantFrom('depends', 'provides', 'optdepends'), array).map(([k, v]) => `${k}+=${v}`),
  descValue.map((v) => `pkgdesc=${v}`),
  descValue.map((v) => `pkgdesc+=${v}`),
  fc.constantFrom('arch=(any)', 'arch=(aarch64)', 'depends_x86_64=(libx)', 'depends_aarch64+=(liba)', 'url=https://e.org/$pkgname', 'depends=()', 'pkgdesc=""'),
);

export interface GeneratedPkgbuild {
  text: string;
}

/** A whole PKGBUILD: header, helper variables, statements, then package function(s). */
export const pkgbuildArbitrary: fc.Arbitrary<GeneratedPkgbuild> = fc
  .record({
    v: dotted,
    n: fc.integer({ min: 0, max: 9 }),
    arr: fc.array(ident, { minLength: 1, maxLength: 3 }),
    list: fc.array(ident, { minLength: 0, maxLength: 3 }),
    arch: fc.constantFrom('(x86_64)', '(x86_64 aarch64)', '(aarch64 x86_64)', '(any)'),
    body: fc.array(statement, { minLength: 1, maxLength: 8 }),
    split: fc.array(fc.array(overrideLine, { minLength: 0, maxLength: 3 }), { minLength: 0, maxLength: 3 }),
    single: fc.array(overrideLine, { minLength: 0, maxLength: 2 }),
  })
  .map((g) => {
    const names = g.split.length === 0 ? ['gen'] : g.split.map((_, i) => `gen-${['core', 'cuda', 'docs'][i]}`);
    const head = [
      '# generated by test/pkgbuild-arbitrary.ts',
      g.split.length === 0 ? 'pkgname=gen' : `pkgbase=gen\npkgname=(${names.join(' ')})`,
      'pkgver=1.0',
      'pkgrel=1',
      `arch=${g.arch}`,
      `_v=${g.v}`,
      `_n=${g.n}`,
      `_arr=(${g.arr.join(' ')})`,
      `_list="${g.list.join(' ')}"`,
    ];
    // arch-specific keys are errors with arch=(any); keep the grammar inside makepkg's rules there
    const body = g.arch === '(any)' ? g.body.map((s) => s.replace(/\b(\w+)_(x86_64|aarch64)(\+?=)/g, '_$1$3')) : g.body;
    const fns =
      g.split.length === 0
        ? [`package() {\n${g.single.map((l) => `  ${l}\n`).join('')}  :\n}`]
        : g.split.map((lines, i) => `package_${names[i]}() {\n${lines.map((l) => `  ${l}\n`).join('')}  :\n}`);
    return { text: `${[...head, ...body, ...fns].join('\n')}\n` };
  });
