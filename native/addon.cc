// The Node-API layer: thin wrappers over statseg::Segment (the reader), shm + fdpass (the
// simulator's side). JavaScript validates options and owns the public API (src/native/); this
// file converts arguments, calls one C++ function, and converts the result back.
#include <napi.h>

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>

#include "exposition.h"
#include "fdpass.h"
#include "shm.h"
#include "statseg.h"

namespace {

// The JS error class handed to us by src/native/index.ts: new ErrorClass(code, message).
Napi::FunctionReference* g_error_class = nullptr;

Napi::Error MakeError(Napi::Env env, const char* code, const std::string& message) {
  if (g_error_class != nullptr) {
    Napi::Object e = g_error_class->New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, e);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

void Throw(Napi::Env env, const statseg::Error& err) {
  MakeError(env, statseg::CodeName(err.code), err.message).ThrowAsJavaScriptException();
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(info.Env(), "setErrorClass(fn)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  delete g_error_class;
  g_error_class = new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>()));
  return info.Env().Undefined();
}

template <typename T>
Napi::ArrayBuffer CopyToArrayBuffer(Napi::Env env, const T* data, size_t count) {
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, count * sizeof(T));
  if (count) memcpy(ab.Data(), data, count * sizeof(T));
  return ab;
}

uint64_t OptUint(const Napi::Object& o, const char* key, uint64_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? uint64_t(v.As<Napi::Number>().Int64Value()) : dflt;
}

class StatSegment : public Napi::ObjectWrap<StatSegment> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "StatSegment",
                       {
                           StaticMethod("openSocket", &StatSegment::OpenSocket),
                           StaticMethod("openFile", &StatSegment::OpenFile),
                           StaticMethod("openSocketAsync", &StatSegment::OpenSocketAsync),
                           StaticMethod("probeSocketAsync", &StatSegment::ProbeSocketAsync),
                           InstanceMethod("header", &StatSegment::Header),
                           InstanceMethod("directory", &StatSegment::Directory),
                           InstanceMethod("releaseDirectoryPages", &StatSegment::ReleaseDirectoryPages),
                           InstanceMethod("snapshot", &StatSegment::Snapshot),
                           InstanceMethod("close", &StatSegment::Close),
                           InstanceAccessor("size", &StatSegment::Size, nullptr),
                           InstanceAccessor("inode", &StatSegment::Inode, nullptr),
                           InstanceAccessor("closed", &StatSegment::Closed, nullptr),
                       });
  }

  explicit StatSegment(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StatSegment>(info) {
    // Constructed only by openSocket/openFile with an External holding the Segment.
    if (info.Length() == 1 && info[0].IsExternal()) {
      seg_.reset(info[0].As<Napi::External<statseg::Segment>>().Data());
    }
  }

  static Napi::FunctionReference* constructor;

 private:
  static Napi::Value Wrap(Napi::Env env, statseg::Segment* seg, const statseg::Error& err) {
    if (seg == nullptr) {
      Throw(env, err);
      return env.Undefined();
    }
    return constructor->New({Napi::External<statseg::Segment>::New(env, seg)});
  }

  static Napi::Value OpenSocket(const Napi::CallbackInfo& info) {
    statseg::Error err;
    statseg::Segment* seg = statseg::Segment::OpenSocket(info[0].As<Napi::String>().Utf8Value(), &err);
    return Wrap(info.Env(), seg, err);
  }

  // Connecting can wait up to the receive timeout (a stopped VPP accepts nothing): off the
  // JavaScript thread. openSocketAsync(path) -> Promise<StatSegment>.
  class OpenWorker : public Napi::AsyncWorker {
   public:
    OpenWorker(Napi::Env env, std::string path)
        : Napi::AsyncWorker(env), path_(std::move(path)), deferred_(Napi::Promise::Deferred::New(env)) {}
    ~OpenWorker() override { delete seg_; }
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override { seg_ = statseg::Segment::OpenSocket(path_, &err_); }
    void OnOK() override {
      Napi::Env env = Env();
      if (seg_ == nullptr) {
        deferred_.Reject(MakeError(env, statseg::CodeName(err_.code), err_.message).Value());
        return;
      }
      Napi::Object obj = constructor->New({Napi::External<statseg::Segment>::New(env, seg_)});
      seg_ = nullptr;  // owned by the JS object now
      deferred_.Resolve(obj);
    }

   private:
    std::string path_;
    Napi::Promise::Deferred deferred_;
    statseg::Segment* seg_ = nullptr;
    statseg::Error err_;
  };

  static Napi::Value OpenSocketAsync(const Napi::CallbackInfo& info) {
    auto* w = new OpenWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // probeSocketAsync(path) -> Promise<number>: the inode of the descriptor the stats socket hands
  // out, without mapping it. A different inode than the mapped segment's means VPP restarted.
  class ProbeWorker : public Napi::AsyncWorker {
   public:
    ProbeWorker(Napi::Env env, std::string path)
        : Napi::AsyncWorker(env), path_(std::move(path)), deferred_(Napi::Promise::Deferred::New(env)) {}
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override {
      int fd = -1;
      std::string msg;
      fdpass::Result r = fdpass::ReceiveFd(path_, 2000, &fd, &msg);
      if (r != fdpass::Result::kOk) {
        err_ = statseg::Error{r == fdpass::Result::kNoFd ? statseg::Code::kRecvFd : statseg::Code::kConnect, msg};
        return;
      }
      struct stat st;
      if (fstat(fd, &st) == 0) inode_ = uint64_t(st.st_ino);
      else err_ = statseg::Error{statseg::Code::kMap, "fstat of the received descriptor failed"};
      close(fd);
    }
    void OnOK() override {
      Napi::Env env = Env();
      if (!err_.ok()) deferred_.Reject(MakeError(env, statseg::CodeName(err_.code), err_.message).Value());
      else deferred_.Resolve(Napi::Number::New(env, double(inode_)));
    }

   private:
    std::string path_;
    Napi::Promise::Deferred deferred_;
    statseg::Error err_;
    uint64_t inode_ = 0;
  };

  static Napi::Value ProbeSocketAsync(const Napi::CallbackInfo& info) {
    auto* w = new ProbeWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  static Napi::Value OpenFile(const Napi::CallbackInfo& info) {
    statseg::Error err;
    statseg::Segment* seg = statseg::Segment::OpenFile(info[0].As<Napi::String>().Utf8Value(), &err);
    return Wrap(info.Env(), seg, err);
  }

  bool Check(Napi::Env env) {
    if (!seg_ || seg_->closed()) {
      Throw(env, statseg::Error{statseg::Code::kClosed, "segment is closed"});
      return false;
    }
    return true;
  }

  Napi::Value Header(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Check(env)) return env.Undefined();
    statseg::Header h;
    statseg::Error err = seg_->ReadHeader(&h);
    if (!err.ok()) {
      Throw(env, err);
      return env.Undefined();
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("version", Napi::Number::New(env, double(h.version)));
    o.Set("base", Napi::BigInt::New(env, h.base));
    o.Set("epoch", Napi::Number::New(env, double(h.epoch)));
    o.Set("inProgress", Napi::Number::New(env, double(h.in_progress)));
    o.Set("directoryVector", Napi::BigInt::New(env, h.directory_vector));
    return o;
  }

  // Never throws: it runs from a timer, possibly after the segment was closed (then a no-op).
  Napi::Value ReleaseDirectoryPages(const Napi::CallbackInfo& info) {
    if (seg_ && !seg_->closed()) seg_->ReleaseDirectoryPages();
    return info.Env().Undefined();
  }

  Napi::Value Directory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Check(env)) return env.Undefined();
    statseg::DirectoryOptions opts;
    if (info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      Napi::Value skip = o.Get("skipSymlinkPrefixes");
      if (skip.IsArray()) {
        Napi::Array a = skip.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) {
          opts.skip_symlink_prefixes.push_back(a.Get(i).As<Napi::String>().Utf8Value());
        }
      }
      opts.include_empty = o.Get("includeEmpty").ToBoolean();
      opts.keep_pages = o.Get("keepPages").ToBoolean();
    }
    statseg::Directory dir;
    statseg::Error err = seg_->ReadDirectory(opts, &dir);
    if (!err.ok()) {
      Throw(env, err);
      return env.Undefined();
    }
    const size_t n = dir.entries.size();
    Napi::Uint32Array index = Napi::Uint32Array::New(env, n);
    Napi::Uint8Array type = Napi::Uint8Array::New(env, n);
    Napi::BigUint64Array value = Napi::BigUint64Array::New(env, n);
    Napi::Array names = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
      const auto& e = dir.entries[i];
      index[i] = e.index;
      type[i] = uint8_t(e.type);
      value[i] = e.value;
      names.Set(uint32_t(i), Napi::String::New(env, e.name));
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("epoch", Napi::Number::New(env, double(dir.epoch)));
    o.Set("length", Napi::Number::New(env, dir.length));
    o.Set("index", index);
    o.Set("type", type);
    o.Set("value", value);
    o.Set("names", names);
    return o;
  }

  // snapshot(entries: Uint32Array, opts) ->
  //   {epoch, attempts, values: BigUint64Array, layout: Uint32Array (5 per entry), names}
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Check(env)) return env.Undefined();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Throw(env, statseg::Error{statseg::Code::kInvalidArg, "snapshot: entries must be a Uint32Array"});
      return env.Undefined();
    }
    Napi::Uint32Array in = info[0].As<Napi::Uint32Array>();
    std::vector<uint32_t> entries(in.Data(), in.Data() + in.ElementLength());
    statseg::SnapshotOptions opts;
    std::optional<Napi::ArrayBuffer> into;
    if (info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      opts.per_thread = o.Get("perThread").ToBoolean();
      Napi::Value ep = o.Get("epoch");
      if (ep.IsNumber()) {
        opts.has_expected_epoch = true;
        opts.expected_epoch = uint64_t(ep.As<Napi::Number>().Int64Value());
      }
      opts.busy_timeout_ns = OptUint(o, "busyTimeoutMs", 100) * 1'000'000ull;
      opts.max_attempts = uint32_t(OptUint(o, "maxAttempts", 16));
      if (opts.max_attempts == 0) opts.max_attempts = 1;
      Napi::Value buf = o.Get("into");
      if (buf.IsArrayBuffer()) into = buf.As<Napi::ArrayBuffer>();
    }
    statseg::Snapshot snap;
    statseg::Error err = seg_->TakeSnapshot(entries, opts, &snap);
    if (!err.ok()) {
      Throw(env, err);
      return env.Undefined();
    }
    // Copy out into the caller's spare buffer when it is large enough (its pages are warm), else
    // into a new one; either way JavaScript never sees the mapping or our scratch memory.
    const size_t nvalues = snap.values.size();
    const size_t nbytes = nvalues * sizeof(uint64_t);
    Napi::ArrayBuffer vab;
    if (into.has_value() && into->ByteLength() >= nbytes && !into->IsDetached()) {
      vab = *into;
    } else {
      vab = Napi::ArrayBuffer::New(env, nbytes);
    }
    if (nbytes) memcpy(vab.Data(), snap.values.data(), nbytes);
    seg_->ReturnScratch(std::move(snap.values));
    Napi::Uint32Array layout = Napi::Uint32Array::New(env, snap.layout.size() * 5);
    Napi::Array names = Napi::Array::New(env, snap.layout.size());
    for (size_t k = 0; k < snap.layout.size(); k++) {
      const auto& l = snap.layout[k];
      layout[k * 5 + 0] = l.status;
      layout[k * 5 + 1] = l.type;
      layout[k * 5 + 2] = uint32_t(l.offset);
      layout[k * 5 + 3] = l.rows;
      layout[k * 5 + 4] = l.width;
      if (l.type == statseg::kNameVector && l.status == 0) {
        const auto& src = snap.names[k];
        Napi::Array list = Napi::Array::New(env, src.size());
        for (size_t i = 0; i < src.size(); i++) {
          list.Set(uint32_t(i), snap.name_present[k][i] ? Napi::Value(Napi::String::New(env, src[i]))
                                                        : env.Null());
        }
        names.Set(uint32_t(k), list);
      }
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("epoch", Napi::Number::New(env, double(snap.epoch)));
    o.Set("attempts", Napi::Number::New(env, snap.attempts));
    o.Set("values", Napi::BigUint64Array::New(env, nvalues, vab, 0));
    o.Set("layout", layout);
    o.Set("names", names);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    seg_.reset();  // unmaps now rather than at garbage collection
    return info.Env().Undefined();
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), seg_ ? double(seg_->size()) : 0);
  }
  Napi::Value Inode(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), seg_ ? double(seg_->inode()) : 0);
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !seg_ || seg_->closed());
  }

  std::unique_ptr<statseg::Segment> seg_;
};

Napi::FunctionReference* StatSegment::constructor = nullptr;

// The simulator's segment: a read-write memfd mapping exposed to JavaScript as an ArrayBuffer
// (the simulator is the writer, so it needs the view the reader must never have), plus the fd
// server that hands the memfd to stats clients.
class SharedSegment : public Napi::ObjectWrap<SharedSegment> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "SharedSegment",
                       {
                           InstanceMethod("serve", &SharedSegment::Serve),
                           InstanceMethod("stopServing", &SharedSegment::StopServing),
                           InstanceMethod("destroy", &SharedSegment::Destroy),
                           InstanceAccessor("buffer", &SharedSegment::Buffer, nullptr),
                           InstanceAccessor("served", &SharedSegment::Served, nullptr),
                           InstanceAccessor("size", &SharedSegment::Size, nullptr),
                       });
  }

  explicit SharedSegment(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SharedSegment>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber() || info[0].As<Napi::Number>().DoubleValue() < 4096) {
      Throw(env, statseg::Error{statseg::Code::kInvalidArg, "SharedSegment(size >= 4096)"});
      return;
    }
    std::string err;
    if (!shm::Create("stat segment", size_t(info[0].As<Napi::Number>().Int64Value()), &region_, &err)) {
      Throw(env, statseg::Error{statseg::Code::kMap, err});
      return;
    }
    // Not owned by V8: detached and unmapped explicitly in destroy() (or by the finalizer).
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, region_.addr, region_.size);
    buffer_ = Napi::Persistent(ab);
  }

  ~SharedSegment() override {
    server_.Stop();
    shm::Destroy(&region_);
  }

 private:
  Napi::Value Serve(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string err;
    server_.Stop();
    if (region_.fd < 0 || !server_.Start(info[0].As<Napi::String>().Utf8Value(), region_.fd, &err)) {
      Throw(env, statseg::Error{statseg::Code::kConnect, err.empty() ? "segment destroyed" : err});
    }
    return env.Undefined();
  }

  Napi::Value StopServing(const Napi::CallbackInfo& info) {
    server_.Stop();
    return info.Env().Undefined();
  }

  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    server_.Stop();
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer ab = buffer_.Value();
      if (!ab.IsDetached()) ab.Detach();
      buffer_.Reset();
    }
    shm::Destroy(&region_);
    return info.Env().Undefined();
  }

  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    if (buffer_.IsEmpty()) return info.Env().Undefined();
    return buffer_.Value();
  }
  Napi::Value Served(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(server_.served()));
  }
  Napi::Value Size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(region_.size));
  }

  shm::Region region_;
  fdpass::FdServer server_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

// Exposition formatting (exposition.h). JavaScript prepares a RenderPlan once per directory
// epoch (src/exporters/exposition.ts compileNativePlan); per scrape, plan.render(values, layout,
// opts) checks the snapshot against it and returns a Renderer whose fill(buffer) writes the next
// whole lines into a caller's Buffer. The Renderer keeps the values array alive and reads it
// again on every fill, never past what render() checked.
class Renderer : public Napi::ObjectWrap<Renderer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Renderer",
                       {
                           InstanceMethod("fill", &Renderer::Fill),
                           InstanceAccessor("done", &Renderer::Done, nullptr),
                           InstanceAccessor("bytes", &Renderer::Bytes, nullptr),
                       });
  }

  explicit Renderer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Renderer>(info) {
    // Constructed only by RenderPlan.render with an External holding the expo::Renderer.
    if (info.Length() == 2 && info[0].IsExternal() && info[1].IsTypedArray()) {
      r_.reset(info[0].As<Napi::External<expo::Renderer>>().Data());
      values_ = Napi::Persistent(info[1].As<Napi::BigUint64Array>());
    }
  }

  static Napi::FunctionReference* constructor;

 private:
  // fill(into: Uint8Array) -> bytes written into `into` from its start; 0 when complete.
  Napi::Value Fill(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!r_) {
      MakeError(env, "INVALID_ARG", "Renderer: made only by RenderPlan.render").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      MakeError(env, "INVALID_ARG", "fill(into: Uint8Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (r_->done()) return Napi::Number::New(env, 0);
    Napi::Uint8Array into = info[0].As<Napi::Uint8Array>();
    if (into.ElementLength() == 0) {
      MakeError(env, "INVALID_ARG", "fill: the buffer is empty").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::BigUint64Array values = values_.Value();
    size_t written = 0;
    std::string err;
    if (!r_->Fill(values.Data(), values.ElementLength(), into.Data(), into.ElementLength(), &written, &err)) {
      MakeError(env, "STALE", err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (r_->done()) values_.Reset();  // nothing more to read: let the buffer go
    return Napi::Number::New(env, double(written));
  }

  Napi::Value Done(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !r_ || r_->done()); }
  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), r_ ? double(r_->bytes()) : 0);
  }

  std::unique_ptr<expo::Renderer> r_;
  Napi::Reference<Napi::BigUint64Array> values_;
};

Napi::FunctionReference* Renderer::constructor = nullptr;

class RenderPlan : public Napi::ObjectWrap<RenderPlan> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RenderPlan",
                       {
                           InstanceMethod("render", &RenderPlan::Render),
                           InstanceAccessor("series", &RenderPlan::SeriesCount, nullptr),
                           InstanceAccessor("families", &RenderPlan::FamilyCount, nullptr),
                           InstanceAccessor("slots", &RenderPlan::Slots, nullptr),
                           InstanceAccessor("arenaBytes", &RenderPlan::ArenaBytes, nullptr),
                       });
  }

  // new RenderPlan(arena: Uint8Array, families: Uint32Array, series: Uint32Array, slots: number,
  // le?: Uint32Array) copies the arrays into C++ memory (see exposition.h for their layout); le,
  // the histogram bound texts, is needed only by histogram families.
  explicit RenderPlan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RenderPlan>(info) {
    Napi::Env env = info.Env();
    auto is = [](const Napi::Value& v, napi_typedarray_type t) {
      return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == t;
    };
    if (!is(info[0], napi_uint8_array) || !is(info[1], napi_uint32_array) || !is(info[2], napi_uint32_array) ||
        !info[3].IsNumber() || !(info[4].IsUndefined() || is(info[4], napi_uint32_array))) {
      MakeError(env, "INVALID_ARG", "RenderPlan(arena: Uint8Array, families: Uint32Array, series: Uint32Array, slots: number, le?: Uint32Array)")
          .ThrowAsJavaScriptException();
      return;
    }
    const double slots = info[3].As<Napi::Number>().DoubleValue();
    if (!(slots >= 0 && slots <= double(UINT32_MAX))) {
      MakeError(env, "INVALID_ARG", "RenderPlan: slots out of range").ThrowAsJavaScriptException();
      return;
    }
    Napi::Uint8Array arena = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array fams = info[1].As<Napi::Uint32Array>();
    Napi::Uint32Array series = info[2].As<Napi::Uint32Array>();
    const uint32_t* le = nullptr;
    size_t le_len = 0;
    if (!info[4].IsUndefined()) {
      Napi::Uint32Array table = info[4].As<Napi::Uint32Array>();
      le = table.Data();
      le_len = table.ElementLength();
    }
    std::string err;
    plan_ = expo::RenderPlan::Build(arena.Data(), arena.ElementLength(), fams.Data(), fams.ElementLength(),
                                    series.Data(), series.ElementLength(), uint32_t(slots), le, le_len, &err);
    if (!plan_) {
      MakeError(env, "INVALID_ARG", err).ThrowAsJavaScriptException();
      return;
    }
#ifdef __GLIBC__
    // Once per directory epoch, after the directory read and the plan build freed their many
    // small allocations: give the free pages back (3-5 MB of RSS at 10k interfaces), ~1 ms.
    malloc_trim(0);
#endif
  }

 private:
  // render(values: BigUint64Array, layout: Uint32Array, opts: {perThread, openMetrics, threads})
  //   -> Renderer; throws STALE when the snapshot does not match the plan.
  Napi::Value Render(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!plan_) {
      MakeError(env, "INVALID_ARG", "RenderPlan was not built").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array ||
        !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        !info[2].IsObject()) {
      MakeError(env, "INVALID_ARG", "render(values: BigUint64Array, layout: Uint32Array, opts)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::BigUint64Array values = info[0].As<Napi::BigUint64Array>();
    Napi::Uint32Array layout = info[1].As<Napi::Uint32Array>();
    Napi::Object o = info[2].As<Napi::Object>();
    expo::RenderOptions opts;
    opts.per_thread = o.Get("perThread").ToBoolean();
    opts.open_metrics = o.Get("openMetrics").ToBoolean();
    Napi::Value threads = o.Get("threads");
    const double t = threads.IsNumber() ? threads.As<Napi::Number>().DoubleValue() : 1;
    opts.threads = t >= 0 && t <= double(UINT32_MAX) ? uint32_t(t) : 1;
    auto r = std::make_unique<expo::Renderer>(plan_);
    std::string err;
    if (!r->Begin(values.Data(), values.ElementLength(), layout.Data(), layout.ElementLength(), opts, &err)) {
      MakeError(env, "STALE", err).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::External<expo::Renderer> ext = Napi::External<expo::Renderer>::New(env, r.get());
    Napi::Object obj = Renderer::constructor->New({ext, values});
    r.release();  // owned by the JS object now
    return obj;
  }

  Napi::Value SeriesCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? double(plan_->series_count()) : 0);
  }
  Napi::Value FamilyCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? double(plan_->family_count()) : 0);
  }
  Napi::Value Slots(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? double(plan_->slots()) : 0);
  }
  Napi::Value ArenaBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? double(plan_->arena_bytes()) : 0);
  }

  std::shared_ptr<const expo::RenderPlan> plan_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function seg = StatSegment::Init(env);
  StatSegment::constructor = new Napi::FunctionReference(Napi::Persistent(seg));
  exports.Set("StatSegment", seg);
  exports.Set("SharedSegment", SharedSegment::Init(env));
  Napi::Function renderer = Renderer::Init(env);
  Renderer::constructor = new Napi::FunctionReference(Napi::Persistent(renderer));
  exports.Set("RenderPlan", RenderPlan::Init(env));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  Napi::Array codes = Napi::Array::New(env);
  for (int c = 0; c <= int(statseg::Code::kInvalidArg); c++) {
    codes.Set(uint32_t(c), Napi::String::New(env, statseg::CodeName(statseg::Code(c))));
  }
  exports.Set("codes", codes);
  return exports;
}

}  // namespace

NODE_API_MODULE(vpp_native, Init)
