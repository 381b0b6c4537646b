//===- runtime_module.cpp - kiln._runtime: the runtime for Python ---------===//
//
// The part of the `kiln` Python package that runs compiled models: a thin
// nanobind layer over the C API in runtime/include/kiln/kiln.h, linked with
// the static runtime and nothing of LLVM or MLIR. kiln.Session
// (python/kiln/_session.py) subclasses the Session class defined here and
// adds the onnxruntime-style metadata; run() is this file's, called directly.
//
// Arrays go through numpy's C API: an input that is a C-contiguous, aligned,
// native-byte-order array of the model's dtype is handed to the runtime in
// place (zero copy); anything else goes through kiln._session.coerce_input,
// which converts it when numpy's casting rules allow it and raises otherwise.
// Outputs are the buffers the runtime hands over, wrapped without a copy and
// freed with kiln_tensor_free when the array goes.
//
//===----------------------------------------------------------------------===//

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL kiln_runtime_ARRAY_API
#include <numpy/arrayobject.h>

#include "kiln/kiln.h"

#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace nb = nanobind;

static_assert(sizeof(npy_intp) == sizeof(int64_t), "numpy dims are handed to the runtime as int64");

namespace {

/// Raises kiln._errors.status_error(code_name, message): the kiln exception
/// class for a status code (kiln.InvalidArgument, kiln.NotFound, ...).
[[noreturn]] void raiseKiln(const char *codeName, const std::string &message) {
  nb::object error = nb::module_::import_("kiln._errors").attr("status_error")(codeName, message);
  PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(error.ptr())), error.ptr());
  throw nb::python_error();
}

/// Takes ownership of a non-NULL status and raises it.
[[noreturn]] void raiseStatus(kiln_status_t status, const std::string &hint = "") {
  const char *codeName = kiln_status_code_name(kiln_status_code(status));
  std::string message = kiln_status_message(status) + hint;
  kiln_status_free(status);
  raiseKiln(codeName, message);
}

/// The numpy type number for an ONNX/kiln dtype, or -1. bfloat16 has no
/// numpy type: its outputs come back as uint16 bit patterns.
int npyType(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32: return NPY_FLOAT32;
  case KILN_DTYPE_UINT8: return NPY_UINT8;
  case KILN_DTYPE_INT8: return NPY_INT8;
  case KILN_DTYPE_UINT16: return NPY_UINT16;
  case KILN_DTYPE_INT16: return NPY_INT16;
  case KILN_DTYPE_INT32: return NPY_INT32;
  case KILN_DTYPE_INT64: return NPY_INT64;
  case KILN_DTYPE_BOOL: return NPY_BOOL;
  case KILN_DTYPE_FLOAT16: return NPY_FLOAT16;
  case KILN_DTYPE_FLOAT64: return NPY_FLOAT64;
  case KILN_DTYPE_UINT32: return NPY_UINT32;
  case KILN_DTYPE_UINT64: return NPY_UINT64;
  case KILN_DTYPE_BFLOAT16: return NPY_UINT16;
  default: return -1;
  }
}

/// The kiln dtype of a numpy array (by kind and size, so that int64 and
/// longlong are the same), or 0.
int32_t kilnDtype(PyArrayObject *array) {
  PyArray_Descr *descr = PyArray_DESCR(array);
  npy_intp size = PyArray_ITEMSIZE(array);
  switch (descr->kind) {
  case 'f':
    return size == 4 ? KILN_DTYPE_FLOAT32 : size == 8 ? KILN_DTYPE_FLOAT64 : size == 2 ? KILN_DTYPE_FLOAT16 : 0;
  case 'i':
    return size == 8 ? KILN_DTYPE_INT64 : size == 4 ? KILN_DTYPE_INT32 : size == 2 ? KILN_DTYPE_INT16 : size == 1 ? KILN_DTYPE_INT8 : 0;
  case 'u':
    return size == 8 ? KILN_DTYPE_UINT64 : size == 4 ? KILN_DTYPE_UINT32 : size == 2 ? KILN_DTYPE_UINT16 : size == 1 ? KILN_DTYPE_UINT8 : 0;
  case 'b':
    return size == 1 ? KILN_DTYPE_BOOL : 0;
  default:
    return 0;
  }
}

/// An array the runtime can read in place: C-contiguous, aligned, native
/// byte order, of the model's dtype.
bool usableInPlace(PyObject *value, int32_t dtype) {
  if (!PyArray_Check(value))
    return false;
  auto *array = reinterpret_cast<PyArrayObject *>(value);
  return PyArray_IS_C_CONTIGUOUS(array) && PyArray_ISALIGNED(array) &&
         PyArray_ISNOTSWAPPED(array) && kilnDtype(array) == dtype;
}

struct TensorMeta {
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  std::vector<std::string> dimNames;
};

std::string nameList(const std::vector<TensorMeta> &tensors) {
  std::string text;
  for (const TensorMeta &t : tensors)
    text += (text.empty() ? "" : ", ") + t.name;
  return text;
}

/// Index of the tensor named by the Python str `key`, or -1.
int find(const std::vector<TensorMeta> &tensors, PyObject *key, const char *what) {
  if (!PyUnicode_Check(key))
    throw nb::type_error((std::string(what) + " names must be str, not " +
                          Py_TYPE(key)->tp_name).c_str());
  Py_ssize_t size = 0;
  const char *text = PyUnicode_AsUTF8AndSize(key, &size);
  if (!text)
    throw nb::python_error();
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name.size() == size_t(size) && std::memcmp(tensors[i].name.data(), text, size) == 0)
      return int(i);
  return -1;
}

class Session {
public:
  Session(const std::string &path, uint32_t threads, bool deviceIo, uint64_t cudaStream) {
    kiln_status_t status;
    {
      nb::gil_scoped_release release;
      status = kiln_model_load(path.c_str(), &model);
    }
    if (status) {
      std::string hint;
      if (kiln_status_code(status) == KILN_STATUS_INVALID_MODEL && path.size() > 5 &&
          path.compare(path.size() - 5, 5, ".onnx") == 0)
        hint = " (from Python: kiln.compile(\"" + path + "\", \"model.so\"), then open model.so)";
      raiseStatus(status, hint);
    }
    kiln_session_options options;
    kiln_session_options_initialize(&options);
    options.num_threads = threads;
    options.device_io = deviceIo;
    options.cuda_stream = reinterpret_cast<void *>(uintptr_t(cudaStream));
    status = kiln_session_create(model, &options, &session);
    if (status) {
      kiln_model_release(model);
      model = nullptr;
      raiseStatus(status);
    }
    try {
      readMeta(kiln_model_num_inputs(model), kiln_model_input_info, inputs);
      readMeta(kiln_model_num_outputs(model), kiln_model_output_info, outputs);
    } catch (...) {
      kiln_session_release(session);
      kiln_model_release(model);
      throw;
    }
  }
  ~Session() {
    kiln_session_release(session);
    kiln_model_release(model);
  }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// [(name, dims with -1 for symbolic, dim names, kiln dtype)], for
  /// kiln.Session.get_inputs.
  nb::list inputInfo() const { return info(inputs); }
  nb::list outputInfo() const { return info(outputs); }
  uint32_t numThreads() const { return kiln_session_num_threads(session); }
  std::string producer() const { return kiln_model_producer(model); }

  nb::list run(nb::handle outputNames, nb::handle feeds, nb::handle runOptions) {
    if (!runOptions.is_none())
      throw nb::type_error("run_options is not supported by kiln (pass None)");
    if (!PyDict_Check(feeds.ptr()))
      throw nb::type_error((std::string("input_feed must be a dict of input name -> array, not ") +
                            Py_TYPE(feeds.ptr())->tp_name).c_str());

    // Inputs. `keep` holds a reference to every array for the run, which
    // happens without the GIL (another thread may change the dict).
    size_t numInputs = size_t(PyDict_Size(feeds.ptr()));
    std::vector<kiln_tensor> in(numInputs);
    std::vector<nb::object> keep(numInputs);
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    for (size_t i = 0; PyDict_Next(feeds.ptr(), &pos, &key, &value); ++i) {
      int index = find(inputs, key, "input");
      if (index < 0)
        raiseKiln("INVALID_ARGUMENT", "unknown input '" + std::string(PyUnicode_AsUTF8(key)) +
                                          "' (the model's inputs are: " + nameList(inputs) + ")");
      const TensorMeta &meta = inputs[size_t(index)];
      if (usableInPlace(value, meta.dtype)) {
        keep[i] = nb::borrow(value);
      } else {
        keep[i] = coerce()(meta.name, nb::handle(value), meta.dtype);
        if (!usableInPlace(keep[i].ptr(), meta.dtype))
          raiseKiln("INTERNAL", "kiln._session.coerce_input returned an unusable array for input '" +
                                    meta.name + "'");
      }
      auto *array = reinterpret_cast<PyArrayObject *>(keep[i].ptr());
      in[i].name = meta.name.c_str();
      in[i].dtype = meta.dtype;
      in[i].rank = PyArray_NDIM(array);
      in[i].dims = reinterpret_cast<const int64_t *>(PyArray_DIMS(array));
      in[i].data = PyArray_DATA(array);
      in[i].byte_size = size_t(PyArray_NBYTES(array));
    }

    // Outputs: each with its own dims array (not the session's), so that
    // runs from several threads on this session do not share any.
    std::vector<kiln_tensor> out;
    if (outputNames.is_none()) {
      out.resize(outputs.size());
      for (size_t i = 0; i < outputs.size(); ++i)
        out[i].name = outputs[i].name.c_str();
    } else {
      if (PyUnicode_Check(outputNames.ptr()))
        throw nb::type_error("output_names must be a list of names (or None), not a str");
      for (nb::handle name : outputNames) {
        int index = find(outputs, name.ptr(), "output");
        if (index < 0)
          raiseKiln("INVALID_ARGUMENT", "unknown output '" + std::string(PyUnicode_AsUTF8(name.ptr())) +
                                            "' (the model's outputs are: " + nameList(outputs) + ")");
        kiln_tensor t{};
        t.name = outputs[size_t(index)].name.c_str();
        out.push_back(t);
      }
    }
    std::vector<std::array<int64_t, KILN_MAX_RANK>> dims(out.size());
    for (size_t i = 0; i < out.size(); ++i)
      out[i].dims = dims[i].data();

    runWithoutGil(in, out);

    // Wrap the handed-over buffers; on a failure free the ones not wrapped yet.
    nb::list result;
    size_t i = 0;
    try {
      for (; i < out.size(); ++i)
        result.append(wrapOutput(out[i], dims[i].data()));
    } catch (...) {
      for (; i < out.size(); ++i)
        kiln_tensor_free(out[i].data);
      throw;
    }
    return result;
  }

  /// With device_io: inputs [(name, kiln dtype, shape, device address,
  /// bytes)], outputs [(name, device address, bytes)], checked by
  /// kiln._session.Session.run_device; the results are in those buffers.
  void runDevice(nb::list inputFeed, nb::list outputBuffers) {
    std::vector<kiln_tensor> in(inputFeed.size()), out(outputBuffers.size());
    std::vector<std::string> inNames(in.size()), outNames(out.size());
    std::vector<std::vector<int64_t>> inDims(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      nb::tuple t = nb::cast<nb::tuple>(inputFeed[i]);
      inNames[i] = nb::cast<std::string>(t[0]);
      inDims[i] = nb::cast<std::vector<int64_t>>(t[2]);
      in[i].name = inNames[i].c_str();
      in[i].dtype = nb::cast<int32_t>(t[1]);
      in[i].rank = int32_t(inDims[i].size());
      in[i].dims = inDims[i].data();
      in[i].data = reinterpret_cast<void *>(nb::cast<uintptr_t>(t[3]));
      in[i].byte_size = nb::cast<size_t>(t[4]);
    }
    std::vector<std::array<int64_t, KILN_MAX_RANK>> dims(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      nb::tuple t = nb::cast<nb::tuple>(outputBuffers[i]);
      outNames[i] = nb::cast<std::string>(t[0]);
      out[i].name = outNames[i].c_str();
      out[i].data = reinterpret_cast<void *>(nb::cast<uintptr_t>(t[1]));
      out[i].byte_size = nb::cast<size_t>(t[2]);
      out[i].dims = dims[i].data();
    }
    runWithoutGil(in, out);
  }

  /// kiln_session_device_alloc / _free / _copy, for kiln.DeviceArray.
  uintptr_t deviceAlloc(size_t bytes) {
    void *device = nullptr;
    if (kiln_status_t status = kiln_session_device_alloc(session, bytes, &device))
      raiseStatus(status);
    return reinterpret_cast<uintptr_t>(device);
  }
  /// kiln_session_wait_stream: the next runs after `stream`'s work so far.
  void waitStream(uintptr_t stream) {
    if (kiln_status_t status =
            kiln_session_wait_stream(session, reinterpret_cast<void *>(stream)))
      raiseStatus(status);
  }
  void deviceFree(uintptr_t device) {
    kiln_session_device_free(session, reinterpret_cast<void *>(device));
  }
  void deviceCopy(uintptr_t dst, uintptr_t src, size_t bytes, int32_t kind) {
    kiln_status_t status;
    {
      nb::gil_scoped_release release;
      status = kiln_session_device_copy(session, reinterpret_cast<void *>(dst),
                                        reinterpret_cast<const void *>(src), bytes, kind);
    }
    if (status)
      raiseStatus(status);
  }

private:
  /// kiln_session_run with the GIL released; raises its error.
  void runWithoutGil(std::vector<kiln_tensor> &in, std::vector<kiln_tensor> &out) {
    kiln_status_t status;
    {
      nb::gil_scoped_release release;
      status = kiln_session_run(session, in.data(), in.size(), out.data(), out.size());
    }
    if (status)
      raiseStatus(status);
  }

  template <typename InfoFn>
  void readMeta(size_t count, InfoFn infoFn, std::vector<TensorMeta> &into) {
    into.resize(count);
    for (size_t i = 0; i < count; ++i) {
      kiln_tensor_info info;
      if (kiln_status_t status = infoFn(model, i, &info))
        raiseStatus(status);
      TensorMeta &meta = into[i];
      meta.name = info.name;
      meta.dtype = info.dtype;
      meta.dims.assign(info.dims, info.dims + info.rank);
      for (int32_t d = 0; d < info.rank; ++d)
        meta.dimNames.push_back(info.dim_names[d]);
    }
  }

  static nb::list info(const std::vector<TensorMeta> &tensors) {
    nb::list list;
    for (const TensorMeta &t : tensors) {
      nb::list dims, names;
      for (size_t d = 0; d < t.dims.size(); ++d) {
        dims.append(t.dims[d]);
        names.append(t.dimNames[d]);
      }
      list.append(nb::make_tuple(t.name, nb::tuple(dims), nb::tuple(names), t.dtype));
    }
    return list;
  }

  /// kiln._session.coerce_input(name, value, kiln_dtype) -> array, looked
  /// up on each use (only inputs that need a copy get here).
  static nb::object coerce() {
    return nb::module_::import_("kiln._session").attr("coerce_input");
  }

  static nb::object wrapOutput(kiln_tensor &t, const int64_t *dims) {
    int type = npyType(t.dtype);
    if (type < 0) {
      kiln_tensor_free(t.data);
      t.data = nullptr;
      raiseKiln("INTERNAL", std::string("output '") + t.name + "' has dtype " +
                                kiln_dtype_name(t.dtype) + ", which numpy has no type for");
    }
    npy_intp shape[KILN_MAX_RANK];
    for (int32_t d = 0; d < t.rank; ++d)
      shape[d] = npy_intp(dims[d]);
    // The capsule frees the buffer when the array (its base) goes.
    PyObject *capsule = PyCapsule_New(t.data, nullptr, [](PyObject *self) {
      kiln_tensor_free(PyCapsule_GetPointer(self, nullptr));
    });
    if (!capsule)
      throw nb::python_error();
    t.data = nullptr; // the capsule owns it now
    PyObject *array = PyArray_SimpleNewFromData(t.rank, shape, type,
                                                PyCapsule_GetPointer(capsule, nullptr));
    if (!array) {
      Py_DECREF(capsule);
      throw nb::python_error();
    }
    if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject *>(array), capsule) < 0) {
      Py_DECREF(array); // SetBaseObject stole the capsule even on failure
      throw nb::python_error();
    }
    return nb::steal(array);
  }

  kiln_model_t *model = nullptr;
  kiln_session_t *session = nullptr;
  std::vector<TensorMeta> inputs, outputs;
};

} // namespace

NB_MODULE(_runtime, m) {
  if (_import_array() < 0)
    throw nb::python_error();
  m.doc() = "The Kiln runtime (libkiln_runtime, C API kiln.h) for Python; use kiln.Session.";
  m.attr("runtime_version") = kiln_runtime_version();
  m.attr("MAX_RANK") = KILN_MAX_RANK;
  m.def("dtype_name", [](int32_t dtype) { return std::string(kiln_dtype_name(dtype)); });
  m.attr("COPY_HOST_TO_DEVICE") = int(KILN_GPU_COPY_HOST_TO_DEVICE);
  m.attr("COPY_DEVICE_TO_HOST") = int(KILN_GPU_COPY_DEVICE_TO_HOST);

  nb::class_<Session>(m, "Session", "A loaded model and a kiln_session_t on it.")
      .def(nb::init<const std::string &, uint32_t, bool, uint64_t>(), nb::arg("path"),
           nb::arg("threads") = 0, nb::arg("device_io") = false, nb::arg("cuda_stream") = 0)
      .def("run", &Session::run, nb::arg("output_names").none(), nb::arg("input_feed"),
           nb::arg("run_options").none() = nb::none(),
           "run(output_names, input_feed, run_options=None) -> list of numpy arrays\n\n"
           "output_names: None for every output in model order, or a list of names.\n"
           "input_feed: {input name: numpy array}. The GIL is released while the\n"
           "model runs.")
      .def("_run_device", &Session::runDevice)
      .def("_device_alloc", &Session::deviceAlloc)
      .def("_device_free", &Session::deviceFree)
      .def("_wait_stream", &Session::waitStream)
      .def("_device_copy", &Session::deviceCopy)
      .def("_input_info", &Session::inputInfo)
      .def("_output_info", &Session::outputInfo)
      .def_prop_ro("num_threads", &Session::numThreads,
                   "Threads that work on one run, counting the caller's.")
      .def_prop_ro("producer", &Session::producer, "What compiled the model (its flags, CPU).");
}
