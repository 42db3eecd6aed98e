import { createRequire as __preludeCreateRequire } from 'node:module';
import { fileURLToPath as __preludeFileURLToPath } from 'node:url';
import { dirname as __preludeDirname } from 'node:path';
const require = __preludeCreateRequire(import.meta.url);
const __filename = __preludeFileURLToPath(import.meta.url);
const __dirname = __preludeDirname(__filename);
export const id = 447;
export const ids = [447];
export const modules = {

/***/ 95447:
/***/ ((module) => {

function webpackEmptyAsyncContext(req) {
	// Here Promise.resolve().then() is used instead of new Promise() to prevent
	// uncaught exception popping up in devtools
	return Promise.resolve().then(() => {
		var e = new Error("Cannot find module '" + req + "'");
		e.code = 'MODULE_NOT_FOUND';
		throw e;
	});
}
webpackEmptyAsyncContext.keys = () => ([]);
webpackEmptyAsyncContext.resolve = webpackEmptyAsyncContext;
webpackEmptyAsyncContext.id = 95447;
module.exports = webpackEmptyAsyncContext;

/***/ })

};
