import { createRequire as __preludeCreateRequire } from 'node:module';
import { fileURLToPath as __preludeFileURLToPath } from 'node:url';
import { dirname as __preludeDirname } from 'node:path';
const require = __preludeCreateRequire(import.meta.url);
const __filename = __preludeFileURLToPath(import.meta.url);
const __dirname = __preludeDirname(__filename);
export const id = 824;
export const ids = [824];
export const modules = {

/***/ 59824:
/***/ ((__unused_webpack_module, exports, __webpack_require__) => {


/*
 * Copyright The OpenTelemetry Authors
 * SPDX-License-Identifier: Apache-2.0
 */
Object.defineProperty(exports, "__esModule", ({ value: true }));
exports.getMachineId = void 0;
const api_1 = __webpack_require__(29418);
async function getMachineId() {
    api_1.diag.debug('could not read machine-id: unsupported platform');
    return undefined;
}
exports.getMachineId = getMachineId;
//# sourceMappingURL=getMachineId-unsupported.js.map

/***/ })

};
