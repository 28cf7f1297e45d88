// adfemu starts Azurite with this file preloaded (NODE_OPTIONS=--require). Hand-written: it is a Node.js hook.
//
// Azurite's telemetry module requires the Application Insights SDK when it is loaded, even when Azurite runs
// with --disableTelemetry, as adfemu runs it: in Azurite 3.37 that is about 2,800 of the 3,600 modules Azurite
// loads before it listens, and more than half of its start (Azure/Azurite#653 tracks Azurite's slow start).
// Here that require returns a stand-in that loads the real module the first time anything touches it; Azurite
// touches it only to send telemetry, so with telemetry off it is never loaded. Nothing else changes.
"use strict";

const Module = require("module");

const LAZY = new Set(["applicationinsights"]);
const load = Module._load;

if (typeof load === "function") {  // a Node.js without this hook point starts Azurite as it is
  Module._load = function (request, parent, isMain) {
    if (!LAZY.has(request)) {
      return load.apply(this, arguments);
    }
    let real;
    const loaded = () => (real ??= load.call(Module, request, parent, isMain));
    return new Proxy({}, {
      get: (_, key) => Reflect.get(loaded(), key),
      set: (_, key, value) => Reflect.set(loaded(), key, value),
      has: (_, key) => Reflect.has(loaded(), key),
      deleteProperty: (_, key) => Reflect.deleteProperty(loaded(), key),
      ownKeys: () => Reflect.ownKeys(loaded()),
      // reported configurable: a Proxy may not report a property its (empty) target lacks as non-configurable
      getOwnPropertyDescriptor: (_, key) => {
        const found = Reflect.getOwnPropertyDescriptor(loaded(), key);
        return found && { ...found, configurable: true };
      },
      getPrototypeOf: () => Reflect.getPrototypeOf(loaded()),
    });
  };
}
