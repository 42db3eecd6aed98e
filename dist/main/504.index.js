import { createRequire as __preludeCreateRequire } from 'node:module';
import { fileURLToPath as __preludeFileURLToPath } from 'node:url';
import { dirname as __preludeDirname } from 'node:path';
const require = __preludeCreateRequire(import.meta.url);
const __filename = __preludeFileURLToPath(import.meta.url);
const __dirname = __preludeDirname(__filename);
export const id = 504;
export const ids = [504];
export const modules = {

/***/ 504:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  restoreEngineState: () => (/* binding */ restoreEngineState),
  stateFingerprint: () => (/* binding */ stateFingerprint)
});

// UNUSED EXPORTS: cacheAccess, cacheServiceVersion, engineStateKeys, saveEngineState

// EXTERNAL MODULE: ../../work/main/node_modules/@actions/cache/lib/cache.js + 339 modules
var lib_cache = __webpack_require__(225);
// EXTERNAL MODULE: ../../work/main/node_modules/@actions/core/lib/core.js + 7 modules
var lib_core = __webpack_require__(96310);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./src/engine-state/helper-container.ts
var helper_container = __webpack_require__(34083);
// EXTERNAL MODULE: ./src/engine-state/listing.ts
var listing = __webpack_require__(88553);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: ./src/inputs/pipeline-config.ts + 2 modules
var pipeline_config = __webpack_require__(45888);
;// CONCATENATED MODULE: ./src/engine-state/manifest.ts
// The manifest of a saved engine state and the plan of a save: which stored parts to reuse, which
// to repack, and how new units are packed into part archives. Pure: no I/O here.


const MANIFEST_FORMAT = 1;
/** The longest a recorded duration may be: a week, beyond any job GitHub runs. */
const MAX_RECORDED_MS = 7 * 24 * 3600 * 1000;
function partKey(prefix, content) {
    return `${prefix}-${createHash('sha256').update(content).digest('hex').slice(0, 40)}`;
}
function manifest_planSave(split, previous, options) {
    const current = new Map(split.units.map(unit => [unit.id, unit]));
    const reused = [];
    const placed = new Set();
    if (previous) {
        const liveByPart = new Map();
        for (const [id, stored] of Object.entries(previous.units)) {
            const unit = current.get(id);
            if (!unit)
                continue;
            const list = liveByPart.get(stored.part);
            if (list)
                list.push(unit);
            else
                liveByPart.set(stored.part, [unit]);
        }
        for (const [index, units] of liveByPart) {
            const part = previous.parts[index];
            if (!part || part.remainder)
                continue;
            const liveBytes = units.reduce((sum, unit) => sum + unit.bytes, 0);
            if (liveBytes < part.unitBytes * options.minLiveFraction)
                continue;
            reused.push({ part, units });
            for (const unit of units)
                placed.add(unit.id);
        }
    }
    const fresh = split.units.filter(unit => !placed.has(unit.id));
    return { reused, created: [...manifest_packUnits(fresh, options), remainderPart(split, options)] };
}
/**
 * Greedy packing in root order, so the same set of new units always yields the same parts (and
 * keys): a re-run or a parallel job with the same new units finds them already stored.
 */
function manifest_packUnits(units, options) {
    const ordered = [...units].sort((a, b) => (a.roots[0] < b.roots[0] ? -1 : a.roots[0] > b.roots[0] ? 1 : 0));
    const parts = [];
    let batch = [];
    let batchBytes = 0;
    const flush = () => {
        if (batch.length === 0)
            return;
        const ids = batch.map(unit => unit.id).sort();
        parts.push({
            key: partKey(`${options.partKeyPrefix}-units`, ids.join('\n')),
            members: batch.flatMap(unit => unit.roots),
            recursive: true,
            bytes: batchBytes,
            units: batch,
            remainder: false
        });
        batch = [];
        batchBytes = 0;
    };
    for (const unit of ordered) {
        if (batchBytes > 0 && batchBytes + unit.bytes > options.partTargetBytes)
            flush();
        batch.push(unit);
        batchBytes += unit.bytes;
    }
    flush();
    return parts;
}
function remainderPart(split, options) {
    return {
        key: partKey(`${options.partKeyPrefix}-rest`, split.remainderId),
        members: split.remainder.map(entry => entry.path),
        recursive: false,
        bytes: split.remainderBytes,
        units: [],
        remainder: true
    };
}
/** The manifest of a save once every created part is stored (under the key and path it was stored with). */
function manifest_buildManifest(plan, stored, meta) {
    const parts = [];
    const units = {};
    const addPart = (part, held) => {
        const index = parts.push(part) - 1;
        for (const unit of held)
            units[unit.id] = { part: index, roots: unit.roots, bytes: unit.bytes };
    };
    for (const { part, units: held } of plan.reused)
        addPart(part, held);
    plan.created.forEach((part, i) => {
        const { key, path, bytes } = stored[i];
        addPart({
            key,
            path,
            bytes,
            units: part.units.length,
            unitBytes: part.bytes,
            ...(part.remainder ? { remainder: true } : {})
        }, part.units);
    });
    return {
        format: MANIFEST_FORMAT,
        engineVersion: meta.engineVersion,
        fingerprint: meta.fingerprint,
        savedAt: new Date().toISOString(),
        parts,
        units,
        ...(meta.coldRun ? { coldRun: meta.coldRun } : {})
    };
}
function isFields(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
/** A value from the manifest as it may appear in a message: it is untrusted, so quoted and cut short. */
function shown(value) {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
function isSize(value) {
    return Number.isSafeInteger(value) && value >= 0;
}
function isDuration(value) {
    return isSize(value) && value <= MAX_RECORDED_MS;
}
/** Why a manifest's coldRun is not one this code could have written, or undefined. */
function coldRunProblem(value) {
    if (!isFields(value))
        return `${shown(value)} is not an object`;
    if (!isDuration(value.pipelineMs))
        return `pipelineMs ${shown(value.pipelineMs)} is not a whole number of 0 to ${MAX_RECORDED_MS} ms`;
    const { stages } = value;
    if (!isFields(stages))
        return `stages ${shown(stages)} is not an object keyed by stage`;
    const entries = Object.entries(stages);
    if (entries.length === 0)
        return 'stages is empty';
    for (const [stage, ms] of entries) {
        if (!pipeline_config/* STAGES */.an.includes(stage))
            return `stage ${shown(stage)} is not one of ${pipeline_config/* STAGES */.an.join(', ')}`;
        if (!isDuration(ms))
            return `stage ${stage}: ${shown(ms)} is not a whole number of 0 to ${MAX_RECORDED_MS} ms`;
    }
    const extra = Object.keys(value).filter(key => key !== 'pipelineMs' && key !== 'stages');
    if (extra.length > 0)
        return `unknown field ${shown(extra[0])}`;
    return undefined;
}
function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/**
 * Why a unit root cannot be one the state listing produced, or undefined. Roots become tar member
 * names and, through their parents, `mkdir` arguments in the helper: the listing's './' prefix
 * keeps each below the state root and keeps any from being read as an option.
 */
function badRoot(root) {
    if (typeof root !== 'string')
        return `root ${shown(root)} is not a string`;
    if (root.includes('\0'))
        return `root ${shown(root)} holds a NUL`;
    if (!root.startsWith('./') || root.length === 2)
        return `root ${shown(root)} is not a path below the state root ('./…')`;
    if (root.split('/').includes('..'))
        return `root ${shown(root)} has a .. segment`;
    return undefined;
}
/**
 * Throws, saying why, when a manifest read from the cache is not one this code could have
 * written. Any workflow run of the repository can write cache entries, so nothing in it is
 * trusted: a part's path is a host file the restore writes and deletes, its key names an entry to
 * download, and unit roots are names extracted and created in the state volume.
 */
function validateManifest(value, expected) {
    if (!isFields(value) || value.format !== MANIFEST_FORMAT)
        throw new Error('unknown manifest format');
    if (value.engineVersion !== expected.engineVersion) {
        throw new Error(`manifest is for engine ${shown(value.engineVersion)}, not ${shown(expected.engineVersion)}`);
    }
    if (typeof value.fingerprint !== 'string')
        throw new Error('manifest fingerprint is not a string');
    if (typeof value.savedAt !== 'string')
        throw new Error('manifest savedAt is not a string');
    const { parts, units } = value;
    if (!Array.isArray(parts))
        throw new Error('manifest parts are not a list');
    if (!isFields(units))
        throw new Error('manifest units are not an object keyed by unit id');
    // The keys partKey gives a unit part or the remainder, 40 hex digits at the end, so the path
    // derived from one stays inside the parts directory; the store may add the run's id and attempt
    // (two key components) when an upload under the plain key failed, and keeps the plain key's path.
    const partKeyPattern = new RegExp(`^(${escapeRegExp(expected.partPrefix)}-(units|rest)-[0-9a-f]{40})(?:-[A-Za-z0-9._+]+-[A-Za-z0-9._+]+)?$`);
    const paths = new Set();
    parts.forEach((part, i) => {
        if (!isFields(part))
            throw new Error(`manifest part ${i} is not an object`);
        const match = typeof part.key === 'string' ? partKeyPattern.exec(part.key) : null;
        if (!match)
            throw new Error(`manifest part ${i}: key ${shown(part.key)} is not a part key of this engine version`);
        const [, plainKey, kind] = match;
        const path = expected.partPath(plainKey);
        if (part.path !== path)
            throw new Error(`manifest part ${i}: path ${shown(part.path)} is not the path of its key`);
        // Parts restore concurrently, each through its own file.
        if (paths.has(path))
            throw new Error(`manifest names part key ${shown(plainKey)} twice`);
        paths.add(path);
        for (const field of ['bytes', 'units', 'unitBytes']) {
            if (!isSize(part[field]))
                throw new Error(`manifest part ${i}: ${field} ${shown(part[field])} is not a whole number of at least 0`);
        }
        if (part.remainder !== undefined && typeof part.remainder !== 'boolean') {
            throw new Error(`manifest part ${i}: remainder ${shown(part.remainder)} is not a boolean`);
        }
        if ((kind === 'rest') !== (part.remainder === true)) {
            throw new Error(`manifest part ${i}: a ${kind === 'rest' ? 'remainder key on a part not marked remainder' : 'unit key on the remainder part'}`);
        }
    });
    if (parts.filter((part) => part.remainder).length !== 1)
        throw new Error('manifest needs exactly one remainder part');
    const live = new Map();
    for (const [id, unit] of Object.entries(units)) {
        if (!isFields(unit))
            throw new Error(`manifest unit ${shown(id)} is not an object`);
        const index = unit.part;
        if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= parts.length) {
            throw new Error(`manifest unit ${shown(id)}: part ${shown(index)} is not an index into the parts`);
        }
        if (parts[index].remainder)
            throw new Error(`manifest unit ${shown(id)}: part ${index} is the remainder`);
        live.set(index, (live.get(index) ?? 0) + 1);
        if (!isSize(unit.bytes))
            throw new Error(`manifest unit ${shown(id)}: bytes ${shown(unit.bytes)} is not a whole number of at least 0`);
        if (!Array.isArray(unit.roots) || unit.roots.length === 0)
            throw new Error(`manifest unit ${shown(id)}: roots is not a non-empty list`);
        for (const root of unit.roots) {
            const reason = badRoot(root);
            if (reason)
                throw new Error(`manifest unit ${shown(id)}: ${reason}`);
        }
    }
    for (const [index, count] of live) {
        const held = parts[index].units;
        if (count > held)
            throw new Error(`manifest part ${index}: ${count} live units, but it holds ${held} units`);
    }
    const coldRunBad = value.coldRun === undefined ? undefined : coldRunProblem(value.coldRun);
    if (coldRunBad) {
        // Only the summary's time-saved figures read it: the state restores without them.
        expected.warn?.(`The manifest's cold-run durations are ignored: ${coldRunBad}`);
        const { coldRun: _dropped, ...rest } = value;
        return rest;
    }
    return value;
}

;// CONCATENATED MODULE: ./src/engine-state/phases.ts
// Timings of the phases of a state save or restore (archive, upload, download, extract...), logged
// at debug level so a slow save can be explained from a run's log, and collected by `npm run bench`.

let collector;
/** Collects every span from now on into `spans` (or stops collecting with undefined). */
function collectStatePhases(spans) {
    collector = spans;
}
async function phases_phase(name, subject, body) {
    const start = performance.now();
    try {
        return await body();
    }
    finally {
        const end = performance.now();
        collector?.push({ phase: name, subject, start, end });
        lib_core/* debug */.Yz(`engine state: ${name}${subject ? ` ${subject}` : ''} took ${Math.round(end - start)} ms`);
    }
}

// EXTERNAL MODULE: ./src/shared/errors.ts
var errors = __webpack_require__(91995);
;// CONCATENATED MODULE: ./src/engine-state/store.ts
// The engine-state store: saves and restores the Dagger engine's state volume through the Actions
// cache, incrementally. Units of the state that never change once written (committed snapshots,
// content blobs) are stored once in part archives keyed by their identity and reused by later
// saves; the mutable remainder is stored in every save; a small manifest per save names its parts
// and is the only entry looked up by key. Cache trouble never fails a build: it warns and the
// run goes on cold (restore) or unsaved (save).









/** Bump when the archive layout changes: old entries then simply stop matching. */
const STATE_KEY_PREFIX = 'go-dagger-action-engine-v1';
/**
 * New units are packed into parts of about this size (uncompressed). Each part costs cache
 * requests, helper commands and compressor start-ups; on a 2-core runner 256 MiB parts saved and
 * restored faster than 128 MiB ones, and keep each compressor's window (as large as its input) modest.
 */
const PART_TARGET_BYTES = (/* unused pure expression or super */ null && (256 * 1024 * 1024));
/** A reused part with less than this fraction of its bytes still live is repacked. */
const MIN_LIVE_FRACTION = 0.5;
/** Parts in flight at once: enough to overlap archiving, compression and transfer on a 2-core runner. */
const PART_CONCURRENCY = 3;
/**
 * Archives created or extracted in the helper at once. One tar at a time reads or writes the
 * volume at full speed; several only contend for the same disk and starve the compressors.
 */
const HELPER_CONCURRENCY = 1;
/** Longest wait for one lookup or reservation answer before going on without the cache. */
const LOOKUP_DEADLINE_MS = 120_000;
/**
 * Keys are `<prefix>-<os>-<arch>-<engineVersion>-<scope>-<runId>-<runAttempt>`. Every component
 * has '-' (and anything else outside [A-Za-z0-9._+]) turned into '_', so a restore key such as
 * `…-v0.21.8-` can never prefix-match another version (`…-v0.21.8_rc…`) or `…-build-` another scope
 * (`…-build_linux-…`). Part keys start with `<prefix>-part-`, which no manifest restore key matches.
 */
function keyComponent(value) {
    return value.replace(/[^A-Za-z0-9._+]/g, '_') || '_';
}
function engineStateKeys(options) {
    const os = keyComponent(options.os ?? process.platform);
    const arch = keyComponent(options.arch ?? process.arch);
    const version = keyComponent(options.engineVersion);
    const versionPrefix = `${STATE_KEY_PREFIX}-${os}-${arch}-${version}-`;
    const scopePrefix = `${versionPrefix}${keyComponent(options.scope || 'default')}-`;
    return {
        primary: `${scopePrefix}${keyComponent(options.runId)}-${keyComponent(options.runAttempt)}`,
        restoreKeys: [scopePrefix, versionPrefix],
        partPrefix: `${STATE_KEY_PREFIX}-part-${os}-${arch}-${version}`
    };
}
/** Where the state store keeps its files, relative to the runner's temp dir. */
const STATE_DIR = 'go-dagger-action-state';
/**
 * @actions/cache folds the `paths` array into each entry's version, and stores archive entries
 * relative to GITHUB_WORKSPACE (else the working directory). So every cache call names a path
 * relative to the temp dir, and runs with both pointing at it (inCacheRoot): the version then
 * does not depend on where the runner keeps its temp dir, and a restore lands in this run's.
 */
const MANIFEST_PATH = external_node_path_default().join(STATE_DIR, 'manifest.json');
const PARTS_DIR = external_node_path_default().join(STATE_DIR, 'parts');
function partPath(key) {
    return external_node_path_default().join(PARTS_DIR, `${key.slice(-40)}.tar`);
}
async function inCacheRoot(tempDir, body) {
    const workspace = process.env.GITHUB_WORKSPACE;
    const cwd = process.cwd();
    await (0,promises_.mkdir)(tempDir, { recursive: true });
    process.env.GITHUB_WORKSPACE = tempDir;
    process.chdir(tempDir);
    try {
        return await body();
    }
    finally {
        process.chdir(cwd);
        if (workspace === undefined)
            delete process.env.GITHUB_WORKSPACE;
        else
            process.env.GITHUB_WORKSPACE = workspace;
    }
}
/**
 * Restores the newest manifest for this scope (else any scope of this engine version) and every
 * part it names, replacing the volume's contents. All or nothing: if any part is missing or fails,
 * the volume is emptied and the run starts cold, with a warning.
 */
async function restoreEngineState(options) {
    // Decided before any lookup or helper: a cache this job cannot read costs nothing but one line.
    const access = cacheAccess();
    const notRestored = { cacheHit: 'false', bytes: 0, durationMs: 0, fingerprint: '' };
    if (!access.available) {
        lib_core/* warning */.$e('The Actions cache service is not available to this job: the engine starts cold, and its state will not be saved');
        return notRestored;
    }
    if (!access.readable) {
        lib_core/* info */.pq(access.writable
            ? `The Actions cache is write-only for this run (ACTIONS_CACHE_MODE=${access.mode}): nothing is restored, the engine starts cold`
            : `The Actions cache is closed to this run (ACTIONS_CACHE_MODE=${access.mode}): nothing is restored or saved, the engine starts cold`);
        return notRestored;
    }
    return inCacheRoot(options.tempDir, () => restoreInCacheRoot(options));
}
async function restoreInCacheRoot(options) {
    const started = Date.now();
    const keys = engineStateKeys(options);
    // Without a helper running, a cold start has no fingerprint (post then saves whatever the engine
    // wrote): starting one only for that would make a cold start depend on pulling the helper image.
    const cold = async (helper) => ({
        cacheHit: 'false',
        bytes: 0,
        durationMs: Date.now() - started,
        fingerprint: helper ? await fingerprintWith(helper) : ''
    });
    let matchedKey;
    let manifest;
    try {
        await (0,promises_.mkdir)(external_node_path_default().dirname(MANIFEST_PATH), { recursive: true });
        matchedKey = await deadline(lib_cache/* restoreCache */.P3([MANIFEST_PATH], keys.primary, keys.restoreKeys), 'looking up the engine state');
        if (!matchedKey) {
            lib_core/* info */.pq(`No saved engine state for ${keys.restoreKeys[0]}* or ${keys.restoreKeys[1]}*: starting cold`);
            return await cold(undefined);
        }
        const expected = { engineVersion: options.engineVersion, partPrefix: keys.partPrefix, partPath, warn: lib_core/* warning */.$e };
        manifest = validateManifest(JSON.parse(await (0,promises_.readFile)(MANIFEST_PATH, 'utf8')), expected);
    }
    catch (error) {
        lib_core/* warning */.$e(`Engine state not restored (${(0,errors/* errorMessage */.g)(error)}): starting cold`);
        return await cold(undefined);
    }
    const cacheHit = matchedKey.startsWith(keys.restoreKeys[0]) ? 'true' : 'partial';
    lib_core/* info */.pq(`Restoring engine state ${matchedKey} (${manifest.parts.length} parts)`);
    // The helper starts while the first parts download: they need it only to be extracted.
    const helperStart = phases_phase('start helper', undefined, () => helper_container/* StateHelper */["in"].start(options.volume, options.helperImage, external_node_path_default().resolve(PARTS_DIR)));
    helperStart.catch(() => undefined);
    let helper;
    try {
        const bytes = await extractParts(helperStart.then(started => (helper = started)), manifest);
        // What was restored is what was saved: the manifest's fingerprint holds, and only the time the
        // restore ended is needed to tell later changes (see stateStamp).
        const fingerprint = (0,listing/* stateStamp */.n7)(manifest.fingerprint, await helper.clock());
        return { cacheHit, matchedKey, bytes, durationMs: Date.now() - started, fingerprint, manifest };
    }
    catch (error) {
        lib_core/* warning */.$e(`Engine state ${matchedKey} could not be restored (${(0,errors/* errorMessage */.g)(error)}): starting cold`);
        try {
            helper ??= await helperStart.catch(() => helper_container/* StateHelper */["in"].start(options.volume, options.helperImage));
            await helper.wipe();
            return await cold(helper);
        }
        catch (wipeError) {
            // Without a helper the volume cannot be read either; the lifecycle will report Docker trouble.
            lib_core/* warning */.$e(`Could not empty the engine state volume ${options.volume}: ${(0,errors/* errorMessage */.g)(wipeError)}`);
            return { cacheHit: 'false', bytes: 0, durationMs: Date.now() - started, fingerprint: '' };
        }
    }
    finally {
        helper ??= await helperStart.catch(() => undefined);
        // Awaited: the step may end (process.exit) soon after, and a helper left behind lives for hours.
        await Promise.all([helper?.remove(), (0,promises_.rm)(PARTS_DIR, { recursive: true, force: true })]);
    }
}
/**
 * Downloads the manifest's parts and extracts them into the emptied volume. Downloads start at
 * once; extraction waits for the helper (started meanwhile) to have emptied the volume. Returns
 * only once nothing is left running in the helper, so a failure can be followed by a wipe.
 */
async function extractParts(helperReady, manifest) {
    // Per part: the roots of its units still in the state, and how many such units there are.
    const live = new Map();
    for (const unit of Object.values(manifest.units)) {
        const held = live.get(unit.part);
        if (held) {
            held.roots.push(...unit.roots);
            held.units++;
        }
        else
            live.set(unit.part, { roots: [...unit.roots], units: 1 });
    }
    const unitParts = manifest.parts
        .map((part, index) => ({ part, index }))
        .filter(({ part, index }) => !part.remainder && live.has(index));
    const remainder = manifest.parts.find(part => part.remainder);
    const prepared = helperReady.then(helper => phases_phase('prepare', undefined, async () => {
        await helper.wipe();
        await helper.makeParents(unitParts.flatMap(({ index }) => live.get(index).roots));
        return helper;
    }));
    prepared.catch(() => undefined);
    let bytes = 0;
    const restorePart = async (part) => {
        await (0,promises_.mkdir)(external_node_path_default().dirname(part.path), { recursive: true });
        const key = await phases_phase('download and unpack', part.key, () => deadline(lib_cache/* restoreCache */.P3([part.path], part.key), `restoring part ${part.key}`, transferDeadline(part.bytes)));
        if (key !== part.key)
            throw new Error(`part ${part.key} is missing from the cache`);
        bytes += (await (0,promises_.stat)(part.path)).size;
    };
    // The remainder downloads alongside the units but is extracted last: it holds the directories
    // above the units, whose modes and mtimes must be set after their contents are in place.
    const remainderDownload = restorePart(remainder);
    const extracting = limiter(HELPER_CONCURRENCY);
    try {
        await mapConcurrently(unitParts, PART_CONCURRENCY, async ({ part, index }) => {
            await restorePart(part);
            const helper = await prepared;
            const { roots, units } = live.get(index);
            // Units removed from the state since the part was stored stay in its archive, unextracted.
            await extracting(() => phases_phase('extract', part.key, () => helper.extract(part.path, units === part.units ? undefined : roots)));
            await (0,promises_.rm)(part.path, { force: true });
        });
        await remainderDownload;
        const helper = await prepared;
        await phases_phase('extract', remainder.key, () => helper.extract(remainder.path));
        await (0,promises_.rm)(remainder.path, { force: true });
        return bytes;
    }
    finally {
        await remainderDownload.catch(() => undefined);
        await prepared.catch(() => undefined);
    }
}
/**
 * Saves the state (the engine must be stopped) unless it is unchanged since the restore. Uploads
 * only parts for new units and the remainder; parts of the restored manifest whose units are still
 * there are reused. The manifest goes last, so a failed save leaves no manifest naming missing parts.
 */
function saveEngineState(options) {
    // Decided before the helper starts: a cache this job cannot write is said once, not per part.
    const access = cacheAccess();
    const unsaved = (reason) => Promise.resolve({ saved: false, reason, bytesUploaded: 0, partsUploaded: 0, partsReused: 0, durationMs: 0 });
    // Not a warning: main's restore gave one already (unless a self-hosted daemon's volume made it skip the restore).
    if (!access.available)
        return unsaved('the Actions cache service is not available to this job');
    if (!access.writable) {
        return unsaved(access.readable
            ? `the Actions cache is read-only for this run (ACTIONS_CACHE_MODE=${access.mode})`
            : `the Actions cache is closed to this run (ACTIONS_CACHE_MODE=${access.mode})`);
    }
    return inCacheRoot(options.tempDir, () => saveInCacheRoot(options, access));
}
async function saveInCacheRoot(options, access) {
    const started = Date.now();
    const result = (saved, reason, extra = {}) => ({
        saved,
        reason,
        bytesUploaded: 0,
        partsUploaded: 0,
        partsReused: 0,
        durationMs: Date.now() - started,
        ...extra
    });
    const keys = engineStateKeys(options);
    const firstUpload = firstUploadAlone();
    let helper;
    try {
        helper = await phase('start helper', undefined, () => StateHelper.start(options.volume, options.helperImage, path.resolve(PARTS_DIR)));
        const listing = await phase('list', undefined, () => helper.listing());
        const { entries, fingerprint, unchanged } = await phase('compare', undefined, () => {
            const entries = parseListing(listing);
            const fingerprint = fingerprintOf(entries);
            return {
                entries,
                fingerprint,
                unchanged: !!options.restored && unchangedSince(entries, options.restored.fingerprint, fingerprint)
            };
        });
        if (unchanged)
            return result(false, 'the engine state did not change since it was restored');
        if (entries.length <= 1)
            return result(false, 'the engine state is empty');
        // A write-only cache cannot confirm that a restored part is still there: every part is stored anew.
        const previous = access.readable ? options.restored?.manifest : undefined;
        const planOptions = {
            partKeyPrefix: keys.partPrefix,
            partTargetBytes: PART_TARGET_BYTES,
            minLiveFraction: MIN_LIVE_FRACTION
        };
        const plan = planSave(splitState(entries), previous, planOptions);
        // One batch of lookups, run while the first parts are archived: a reused part may have been
        // evicted since the restore (its units are then stored again), and a new part may be stored
        // already (a re-run or another job stored equal units: equal keys hold equal units).
        const lookups = access.readable
            ? [
                ...plan.reused.map(({ part }) => part),
                ...plan.created.map(part => ({ key: part.key, path: partPath(part.key) }))
            ]
            : [];
        let storedKeys;
        const lookedUp = mapConcurrently(lookups, 8, part => isStored(part.path, part.key)).then(found => {
            storedKeys = new Set(lookups.filter((_, i) => found[i]).map(part => part.key));
            return storedKeys;
        });
        const archiving = limiter(HELPER_CONCURRENCY);
        // Parts repacked after an eviction were not looked up: they are never in the set, so they are stored.
        const store = (parts) => mapConcurrently(parts, PART_CONCURRENCY, part => {
            const stored = { key: part.key, path: partPath(part.key), bytes: part.bytes, uploaded: false };
            if (storedKeys?.has(part.key))
                return Promise.resolve(stored);
            return storePart(helper, archiving, part, { options, access, firstUpload }, async () => (await lookedUp).has(part.key));
        });
        const uploads = await store(plan.created);
        const stillStored = await lookedUp;
        const evicted = plan.reused.filter(({ part }) => !stillStored.has(part.key));
        if (evicted.length > 0) {
            const again = packUnits(evicted.flatMap(r => r.units), planOptions);
            plan.reused = plan.reused.filter(({ part }) => stillStored.has(part.key));
            plan.created.unshift(...again);
            uploads.unshift(...(await store(again)));
        }
        const manifest = buildManifest(plan, uploads, {
            engineVersion: options.engineVersion,
            fingerprint,
            coldRun: options.coldRun
        });
        await mkdir(path.dirname(MANIFEST_PATH), { recursive: true });
        await writeFile(MANIFEST_PATH, JSON.stringify(manifest));
        const stored = await saveEntry(MANIFEST_PATH, keys.primary, access);
        const totals = {
            bytesUploaded: uploads.reduce((sum, u) => sum + (u.uploaded ? u.bytes : 0), 0),
            partsUploaded: uploads.filter(u => u.uploaded).length,
            partsReused: plan.reused.length + uploads.filter(u => !u.uploaded).length
        };
        if (!stored) {
            core.warning(`Engine state not saved: the manifest ${keys.primary} could not be stored`);
            return result(false, `the manifest ${keys.primary} could not be stored`, totals);
        }
        return result(true, 'saved', { ...totals, key: keys.primary });
    }
    catch (error) {
        core.warning(`Engine state not saved: ${errorMessage(error)}`);
        return result(false, `error: ${errorMessage(error)}`);
    }
    finally {
        await Promise.all([helper?.remove(), rm(PARTS_DIR, { recursive: true, force: true })]);
    }
}
/** Archives a part and uploads it, unless `storedAlready` (asked once the archive is made) says it is there. */
async function storePart(helper, archiving, part, { options, access, firstUpload }, storedAlready) {
    const file = partPath(part.key);
    await mkdir(path.dirname(file), { recursive: true });
    await archiving(() => phase('archive', part.key, () => helper.createArchive(part.members, part.recursive, file)));
    const bytes = (await stat(file)).size;
    try {
        if (await storedAlready())
            return { key: part.key, path: file, bytes, uploaded: false };
        return await firstUpload(async (first) => {
            if (await saveEntry(file, part.key, access))
                return { key: part.key, path: file, bytes, uploaded: true };
            // Another job may have stored the same part meanwhile; then it is there to reuse.
            if (access.readable && (await isStored(file, part.key)))
                return { key: part.key, path: file, bytes, uploaded: false };
            // An upload that died midway can leave its key reserved for a long while; without another
            // name these units could not be stored again until it expires.
            const runKey = `${part.key}-${keyComponent(options.runId)}-${keyComponent(options.runAttempt)}`;
            if (await saveEntry(file, runKey, access))
                return { key: runKey, path: file, bytes, uploaded: true };
            // Refused under both names before anything of this save was stored. saveCache does not say
            // why (it logs it): most likely the run's cache token is read-only, which a runner that
            // exports no ACTIONS_CACHE_MODE leaves to be found out this way; the other parts would fare
            // no better, so they are not tried.
            if (first) {
                throw new Error(`the Actions cache refused the first upload (under the part's key and under this run's), so nothing else was tried: ` +
                    `the cache is ${READ_ONLY_RUN}, or its service failed; the cache library's line above says which`);
            }
            throw new Error(`part ${part.key} could not be stored`);
        });
    }
    finally {
        await rm(file, { force: true });
    }
}
const READ_ONLY_RUN = 'read-only for this run (as under the read-only cache token of an untrusted event)';
/** How the cache service words a refused write, when the library passes the refusal on as an error. */
const WRITE_REFUSED = /read-only|write denied|\b403\b|forbidden/i;
function firstUploadAlone() {
    let firstDone;
    return async (upload) => {
        if (firstDone) {
            await firstDone;
            return upload(false);
        }
        const attempt = upload(true);
        firstDone = attempt;
        attempt.catch(() => undefined);
        return attempt;
    };
}
/**
 * saveCache reports its own failures as warnings and returns -1, except that the v1 protocol
 * returns the reserved id even when the upload then failed: there only a lookup proves the entry
 * is there. v2 returns an id only once the entry is finalized. A write-only cache allows no
 * lookup: the id is taken at its word, and a restore that misses a part starts cold.
 */
async function saveEntry(file, key, access) {
    try {
        const { size } = await stat(file);
        const id = await phase('pack and upload', key, () => deadline(cache.saveCache([file], key), `storing ${key}`, transferDeadline(size)));
        if (id === -1)
            return false;
    }
    catch (error) {
        if (WRITE_REFUSED.test(errorMessage(error)))
            throw new Error(`the Actions cache refused to store ${key} (${errorMessage(error)}), so it is ${READ_ONLY_RUN}`);
        core.warning(`Could not store ${key}: ${errorMessage(error)}`);
        return false;
    }
    return cacheServiceVersion() === 'v2' || !access.readable || isStored(file, key);
}
const CACHE_MODES = ['none', 'read', 'write', 'write-only'];
/**
 * The runner's cache mode, decided as @actions/cache decides it (it does not export that part):
 * restoreCache and saveCache skip, each with a line of their own, what the mode does not permit.
 * An unset or unknown mode permits both, as in the library.
 */
function cacheAccess() {
    const mode = (process.env.ACTIONS_CACHE_MODE || '').trim().toLowerCase();
    const known = CACHE_MODES.includes(mode);
    return {
        available: lib_cache/* isFeatureAvailable */.w3(),
        mode,
        readable: !known || mode === 'read' || mode === 'write',
        writable: !known || mode === 'write' || mode === 'write-only'
    };
}
/**
 * The protocol @actions/cache speaks, decided as it decides (it does not export its decision):
 * v2 when ACTIONS_CACHE_SERVICE_V2 is set, except on GitHub Enterprise Server, which only has v1.
 */
function cacheServiceVersion() {
    const host = new URL(process.env.GITHUB_SERVER_URL || 'https://github.com').hostname.trimEnd().toUpperCase();
    const ghes = host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST');
    return !ghes && process.env.ACTIONS_CACHE_SERVICE_V2 ? 'v2' : 'v1';
}
async function isStored(file, key) {
    try {
        return (await deadline(cache.restoreCache([file], key, [], { lookupOnly: true }), `looking up ${key}`)) === key;
    }
    catch (error) {
        core.warning(`Could not look up ${key}: ${errorMessage(error)}`);
        return false;
    }
}
/** The stamp of the volume's state now, as saveEngineState compares it (see stateStamp). */
async function stateFingerprint(volume, helperImage) {
    const helper = await helper_container/* StateHelper */["in"].start(volume, helperImage);
    try {
        return await fingerprintWith(helper);
    }
    finally {
        await helper.remove();
    }
}
async function fingerprintWith(helper) {
    const fingerprint = (0,listing/* fingerprintOf */.ax)((0,listing/* parseListing */._S)(await helper.listing()));
    return (0,listing/* stateStamp */.n7)(fingerprint, await helper.clock());
}
/** A transfer slower than 1 MB/s after a lookup's allowance is treated as a stalled service. */
function transferDeadline(bytes) {
    return LOOKUP_DEADLINE_MS + bytes / 1000;
}
function deadline(promise, what, ms = LOOKUP_DEADLINE_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the cache service did not answer within ${ms / 1000} s while ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
/** Runs bodies with at most `slots` at once, in the order they ask. */
function limiter(slots) {
    let free = slots;
    const waiting = [];
    return async (body) => {
        if (free > 0)
            free--;
        else
            await new Promise(resolve => waiting.push(resolve));
        try {
            return await body();
        }
        finally {
            const next = waiting.shift();
            if (next)
                next();
            else
                free++;
        }
    };
}
async function mapConcurrently(items, limit, body) {
    const results = new Array(items.length);
    let next = 0;
    // Boxed, so that a body that throws undefined still stops the others and is rethrown.
    let failure;
    const worker = async () => {
        while (next < items.length && failure === undefined) {
            const index = next++;
            try {
                results[index] = await body(items[index]);
            }
            catch (error) {
                failure ??= { error };
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (failure)
        throw failure.error;
    return results;
}


/***/ })

};
