// The rules that keep the codebase's shape: small modules, small functions, typescript-eslint's
// recommended checks. Import cycles (type-only ones included) are checked by madge in `npm run lint`,
// since it resolves our `.js` specifiers to `.ts` files through tsconfig.json.
import js from "@eslint/js"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".runs/**", "out/**", ".scratch/**", "reports/**", ".stryker-tmp/**"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names and rest siblings are how we drop a value on purpose (`{ a: _a, ...rest }`).
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_",
        varsIgnorePattern: "^_",
        caughtErrorsIgnorePattern: "^_",
        ignoreRestSiblings: true
      }]
    }
  },
  {
    // Build scripts run on Node directly.
    files: ["scripts/**/*.{js,mjs,cjs}"],
    languageOptions: { globals: globals.node }
  },
  {
    // The executable stays CommonJS for start-up time (see its header), so it loads with `require`.
    files: ["scripts/**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  },
  {
    files: ["src/**/*.ts"],
    rules: {
      // Every line counts, blank and comment lines too: a reviewer checks with `wc -l`.
      "max-lines": ["error", { max: 350, skipBlankLines: false, skipComments: false }],
      "max-lines-per-function": ["error", { max: 100, skipBlankLines: false, skipComments: false, IIFEs: true }]
    }
  }
)
