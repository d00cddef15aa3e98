# The optional C++ addon: byte and fd primitives only (native/, loaded by src/native/index.ts).
# C++ exceptions are disabled (node-addon-api's `node_addon_api` target defines
# NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS and adds -fno-exceptions): nothing here throws C++ exceptions,
# syscall failures come back as -errno numbers that src/native/index.ts turns into Errors with a `code`,
# and argument type mistakes become JS TypeErrors raised with ThrowAsJavaScriptException.
{
  'targets': [
    {
      'target_name': 'fjord_native',
      'sources': ['native/addon.cc', 'native/crc32c.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      'defines': ['NAPI_VERSION=8'],
      'cflags!': ['-O3'],
      'cflags_cc!': ['-O3', '-std=gnu++17'],
      'cflags': ['-O2', '-fvisibility=hidden', '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2'],
      'cflags_cc': ['-std=c++17'],
      'ldflags': ['-Wl,-z,relro', '-Wl,-z,now', '-Wl,-z,noexecstack'],
    },
  ],
}
