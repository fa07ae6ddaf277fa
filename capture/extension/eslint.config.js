// eslint for the extension's JavaScript (`make lint-extension`, part of `make test`).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.serviceworker, ...globals.webextensions, ...globals.node },
    },
    rules: { "no-unused-vars": ["error", { caughtErrors: "none" }] },
  },
  {
    files: ["**/bridge.js"],
    languageOptions: { sourceType: "script", globals: { __FRAME_SELECTOR__: "readonly", __SECRET_PATTERNS__: "readonly" } },
  },
];
