// fjord_native: the N-API surface of the addon. Byte and file-descriptor primitives only; it knows nothing
// about Kafka and never calls into JS except to settle a sendfile promise.
//
// Conventions (src/native/index.ts wraps every function and is the only caller):
//   - arguments were validated in TypeScript; a wrong JS type here is a bug and raises a TypeError;
//   - syscall failures return -errno as a number (0 or a byte count on success), never throw;
//   - Linux only (sendfile(2), fdatasync, posix_fallocate); elsewhere the build fails and Fjord falls back.
//
//   crc32c(data: Uint8Array, initial: number): number
//   crc32cTable(data: Uint8Array, initial: number): number         the portable path, for tests
//   crc32cHardware: boolean
//   sendfile(outFd, inFd, position, length): Promise<number>       bytes sent or -errno
//   mmap(fd, offset, length, writable): Buffer | number            offset need not be page-aligned
//   munmap(buffer): number                                         0, or -errno
//   flushMapping(buffer): number                                   msync(MS_SYNC): 0 or -errno
//   fdatasync(fd): number                                          0 or -errno
//   fallocate(fd, offset, length): number                          0 or -errno
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "crc32c.h"

namespace {

Napi::Value ThrowType(const Napi::Env& env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool AreNumbers(const Napi::CallbackInfo& info, size_t first, size_t count) {
  if (info.Length() < first + count) return false;
  for (size_t i = first; i < first + count; i++) {
    if (!info[i].IsNumber()) return false;
  }
  return true;
}

// Doubles from JS are safe integers (checked in TypeScript), so these conversions are exact.
int64_t ToInt64(const Napi::Value& value) { return value.As<Napi::Number>().Int64Value(); }
int ToFd(const Napi::Value& value) { return value.As<Napi::Number>().Int32Value(); }

// ---- crc32c ------------------------------------------------------------------------------------------------

// Written against the C API rather than node-addon-api's wrappers: this is the one call made per record batch,
// and one napi_get_typedarray_info (type, length and the byteOffset-adjusted pointer at once) keeps it cheap.
template <uint32_t (*Fn)(const uint8_t*, size_t, uint32_t)>
napi_value Crc32cBinding(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  uint32_t initial = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array || napi_get_value_uint32(env, argv[1], &initial) != napi_ok) {
    napi_throw_type_error(env, nullptr, "crc32c(data: Uint8Array, initial: number)");
    return nullptr;
  }
  napi_value result = nullptr;
  napi_create_uint32(env, Fn(static_cast<const uint8_t*>(data), length, initial), &result);
  return result;
}

void SetRawFunction(Napi::Env env, Napi::Object exports, const char* name, napi_callback callback) {
  napi_value fn = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn));
  exports.Set(name, Napi::Value(env, fn));
}

// ---- sendfile ----------------------------------------------------------------------------------------------

// A socket that takes no byte for this long is given up on (ETIMEDOUT) so a stuck client cannot pin a
// thread-pool thread forever. Kafka clients time requests out well before this (request.timeout.ms 30 s).
constexpr int kPollSliceMs = 1000;
constexpr int kStallLimitMs = 60 * 1000;
// Linux transfers at most 0x7ffff000 bytes per sendfile call.
constexpr int64_t kMaxPerCall = 0x7ffff000;

// Runs on a libuv thread-pool thread. The out fd is usually a non-blocking socket that Node owns: EAGAIN
// means its send buffer is full, so wait for POLLOUT here rather than give the partial count back to JS.
int64_t SendfileLoop(int out_fd, int in_fd, int64_t position, int64_t length) {
  off_t offset = static_cast<off_t>(position);
  int64_t sent = 0;
  int stalled_ms = 0;
  while (sent < length) {
    const int64_t want = length - sent < kMaxPerCall ? length - sent : kMaxPerCall;
    const ssize_t n = ::sendfile(out_fd, in_fd, &offset, static_cast<size_t>(want));
    if (n > 0) {
      sent += n;
      stalled_ms = 0;
      continue;
    }
    if (n == 0) break;  // end of file: report what was sent
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EAGAIN && err != EWOULDBLOCK) return -err;
    struct pollfd pfd = {out_fd, POLLOUT, 0};
    const int ready = ::poll(&pfd, 1, kPollSliceMs);
    if (ready < 0 && errno != EINTR) return -errno;
    if (ready == 0) {
      stalled_ms += kPollSliceMs;
      if (stalled_ms >= kStallLimitMs) return -ETIMEDOUT;
    }
    // POLLERR/POLLHUP fall through to the next sendfile, which reports the real error (EPIPE, ECONNRESET).
  }
  return sent;
}

class SendfileWorker : public Napi::AsyncWorker {
 public:
  SendfileWorker(Napi::Env env, int out_fd, int in_fd, int64_t position, int64_t length)
      : Napi::AsyncWorker(env, "fjord:sendfile"),
        deferred_(Napi::Promise::Deferred::New(env)),
        out_fd_(out_fd),
        in_fd_(in_fd),
        position_(position),
        length_(length) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { result_ = SendfileLoop(out_fd_, in_fd_, position_, length_); }

  void OnOK() override { deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(result_))); }

  // Execute never calls SetError, so this only runs if N-API itself failed to queue or complete the work.
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  const int out_fd_;
  const int in_fd_;
  const int64_t position_;
  const int64_t length_;
  int64_t result_ = 0;
};

Napi::Value Sendfile(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!AreNumbers(info, 0, 4)) return ThrowType(env, "sendfile(outFd, inFd, position, length)");
  auto* worker = new SendfileWorker(env, ToFd(info[0]), ToFd(info[1]), ToInt64(info[2]), ToInt64(info[3]));
  const Napi::Promise promise = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK/OnError
  return promise;
}

// ---- mmap --------------------------------------------------------------------------------------------------

// One mmap(2) region behind a Buffer. Owned by the Buffer's finalizer, which always runs exactly once; the
// registry (keyed by the Buffer's data address) lets munmap() release the region early, after which the
// finalizer only frees this struct. Worker threads load the same addon image, so the registry is locked.
struct Mapping {
  void* base;
  size_t length;
  bool released;
};

std::mutex registry_mutex;
std::unordered_map<const uint8_t*, Mapping*> registry;

void FinalizeMapping(Napi::Env /*env*/, uint8_t* data, Mapping* mapping) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    if (!mapping->released) {
      ::munmap(mapping->base, mapping->length);
      auto it = registry.find(data);
      if (it != registry.end() && it->second == mapping) registry.erase(it);
    }
  }
  delete mapping;
}

Napi::Value Mmap(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!AreNumbers(info, 0, 3) || info.Length() < 4 || !info[3].IsBoolean()) {
    return ThrowType(env, "mmap(fd, offset, length, writable)");
  }
  const int fd = ToFd(info[0]);
  const int64_t offset = ToInt64(info[1]);
  const int64_t length = ToInt64(info[2]);
  const bool writable = info[3].As<Napi::Boolean>().Value();
  if (offset < 0 || length <= 0) return Napi::Number::New(env, -EINVAL);

  // mmap(2) wants a page-aligned offset; map from the page boundary below and hand out a view that starts
  // at the requested byte, so callers need not align.
  const int64_t page = ::sysconf(_SC_PAGESIZE);
  const int64_t aligned = offset - offset % page;
  const size_t slack = static_cast<size_t>(offset - aligned);
  const size_t map_length = static_cast<size_t>(length) + slack;
  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* base = ::mmap(nullptr, map_length, prot, MAP_SHARED, fd, static_cast<off_t>(aligned));
  if (base == MAP_FAILED) return Napi::Number::New(env, -errno);

  uint8_t* data = static_cast<uint8_t*>(base) + slack;
  auto* mapping = new Mapping{base, map_length, false};
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[data] = mapping;
  }
  return Napi::Buffer<uint8_t>::New(env, data, static_cast<size_t>(length), FinalizeMapping, mapping);
}

bool IsBuffer(const Napi::CallbackInfo& info) { return info.Length() >= 1 && info[0].IsBuffer(); }

Napi::Value Munmap(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!IsBuffer(info)) return ThrowType(env, "munmap(buffer)");
  Napi::Buffer<uint8_t> buffer = info[0].As<Napi::Buffer<uint8_t>>();
  int result = 0;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto it = registry.find(buffer.Data());
    if (it == registry.end()) return Napi::Number::New(env, 0);  // not a live mapping: nothing to do
    Mapping* mapping = it->second;
    registry.erase(it);
    mapping->released = true;
    if (::munmap(mapping->base, mapping->length) != 0) result = -errno;
  }
  // Detach so that JS sees an empty buffer instead of touching unmapped memory (which would be SIGSEGV).
  // The finalizer may run inside Detach; it sees `released` and only frees the struct.
  Napi::ArrayBuffer array_buffer = buffer.ArrayBuffer();
  if (!array_buffer.IsDetached()) array_buffer.Detach();
  return Napi::Number::New(env, result);
}

Napi::Value FlushMapping(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!IsBuffer(info)) return ThrowType(env, "flushMapping(buffer)");
  const uint8_t* data = info[0].As<Napi::Buffer<uint8_t>>().Data();
  void* base = nullptr;
  size_t length = 0;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto it = registry.find(data);
    if (it == registry.end()) return Napi::Number::New(env, 0);
    base = it->second->base;
    length = it->second->length;
  }
  // msync outside the lock: it can take a while and mappings belong to one thread anyway.
  if (::msync(base, length, MS_SYNC) != 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, 0);
}

// ---- fdatasync / fallocate ---------------------------------------------------------------------------------

Napi::Value Fdatasync(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!AreNumbers(info, 0, 1)) return ThrowType(env, "fdatasync(fd)");
  int rc;
  do {
    rc = ::fdatasync(ToFd(info[0]));
  } while (rc != 0 && errno == EINTR);
  return Napi::Number::New(env, rc == 0 ? 0 : -errno);
}

Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (!AreNumbers(info, 0, 3)) return ThrowType(env, "fallocate(fd, offset, length)");
  int rc;
  do {
    // posix_fallocate returns the error number instead of setting errno.
    rc = ::posix_fallocate(ToFd(info[0]), static_cast<off_t>(ToInt64(info[1])),
                           static_cast<off_t>(ToInt64(info[2])));
  } while (rc == EINTR);
  return Napi::Number::New(env, -rc);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  SetRawFunction(env, exports, "crc32c", Crc32cBinding<fjord::Crc32c>);
  SetRawFunction(env, exports, "crc32cTable", Crc32cBinding<fjord::Crc32cTable>);
  exports.Set("crc32cHardware", Napi::Boolean::New(env, fjord::Crc32cHardware()));
  exports.Set("sendfile", Napi::Function::New<Sendfile>(env, "sendfile"));
  exports.Set("mmap", Napi::Function::New<Mmap>(env, "mmap"));
  exports.Set("munmap", Napi::Function::New<Munmap>(env, "munmap"));
  exports.Set("flushMapping", Napi::Function::New<FlushMapping>(env, "flushMapping"));
  exports.Set("fdatasync", Napi::Function::New<Fdatasync>(env, "fdatasync"));
  exports.Set("fallocate", Napi::Function::New<Fallocate>(env, "fallocate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(fjord_native, Init)
