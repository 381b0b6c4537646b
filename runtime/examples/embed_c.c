/*===- embed_c.c - Embedding the Kiln runtime in a C program --------------===*
 *
 *   embed_c model.so
 *
 * Loads a compiled model, prints its signature, makes up inputs (symbolic
 * dims: 2 for names containing "batch", 3 otherwise; floats 0.5, 1.0, 1.5,
 * ...; ints 1 for names containing "mask", 0, 1, 0, ... for "type" (token
 * types: BERT has 2), else 0, 1, 2, ... mod 10: in range, since an index out
 * of range fails the run), runs it with runtime-allocated outputs and prints
 * the first values of each.
 *
 *===----------------------------------------------------------------------===*/
#include <kiln/kiln.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(kiln_status_t status) {
  fprintf(stderr, "error: %s (%s)\n", kiln_status_message(status),
          kiln_status_code_name(kiln_status_code(status)));
  kiln_status_free(status);
  return 1;
}

static void print_shape(const int64_t *dims, const char *const *names, int32_t rank) {
  printf("[");
  for (int32_t d = 0; d < rank; ++d) {
    if (d)
      printf(",");
    if (dims[d] >= 0)
      printf("%lld", (long long)dims[d]);
    else
      printf("%s", names && names[d][0] ? names[d] : "?");
  }
  printf("]");
}

static double element(int32_t dtype, const void *data, size_t i) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32: return ((const float *)data)[i];
  case KILN_DTYPE_FLOAT64: return ((const double *)data)[i];
  case KILN_DTYPE_INT64: return (double)((const int64_t *)data)[i];
  case KILN_DTYPE_INT32: return ((const int32_t *)data)[i];
  case KILN_DTYPE_INT8: return ((const int8_t *)data)[i];
  case KILN_DTYPE_UINT8:
  case KILN_DTYPE_BOOL: return ((const uint8_t *)data)[i];
  default: return 0; /* float16 etc.: not shown in this example */
  }
}

static void fill(const char *name, int32_t dtype, void *data, size_t n) {
  int mask = strstr(name, "mask") != NULL, type = strstr(name, "type") != NULL;
  for (size_t i = 0; i < n; ++i) {
    switch (dtype) {
    case KILN_DTYPE_FLOAT32: ((float *)data)[i] = 0.5f * (float)(i + 1); break;
    case KILN_DTYPE_FLOAT64: ((double *)data)[i] = 0.5 * (double)(i + 1); break;
    case KILN_DTYPE_INT64:
      ((int64_t *)data)[i] = mask ? 1 : (int64_t)(i % (type ? 2 : 10));
      break;
    case KILN_DTYPE_INT32:
      ((int32_t *)data)[i] = mask ? 1 : (int32_t)(i % (type ? 2 : 10));
      break;
    default: memset((char *)data + i * kiln_dtype_size(dtype), mask ? 1 : 0, kiln_dtype_size(dtype));
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s model.so\n", argv[0]);
    return 2;
  }
  kiln_model_t *model = NULL;
  kiln_status_t status = kiln_model_load(argv[1], &model);
  if (status)
    return fail(status);
  printf("model: %s\nproducer: %s\nsignature:\n", argv[1], kiln_model_producer(model));

  size_t num_inputs = kiln_model_num_inputs(model), num_outputs = kiln_model_num_outputs(model);
  for (size_t i = 0; i < num_inputs + num_outputs; ++i) {
    kiln_tensor_info info;
    status = i < num_inputs ? kiln_model_input_info(model, i, &info)
                            : kiln_model_output_info(model, i - num_inputs, &info);
    if (status)
      return fail(status);
    printf("  %s %s: %s ", i < num_inputs ? "input " : "output", info.name,
           kiln_dtype_name(info.dtype));
    print_shape(info.dims, info.dim_names, info.rank);
    printf("\n");
  }

  /* Inputs: caller-owned; the model reads them in place. */
  kiln_tensor *inputs = calloc(num_inputs, sizeof *inputs);
  int64_t(*dims)[KILN_MAX_RANK] = calloc(num_inputs, sizeof *dims);
  for (size_t i = 0; i < num_inputs; ++i) {
    kiln_tensor_info info;
    kiln_model_input_info(model, i, &info);
    size_t n = 1;
    for (int32_t d = 0; d < info.rank; ++d) {
      dims[i][d] = info.dims[d] >= 0 ? info.dims[d] : strstr(info.dim_names[d], "batch") ? 2 : 3;
      n *= (size_t)dims[i][d];
    }
    size_t bytes = n * kiln_dtype_size(info.dtype);
    void *data = malloc(bytes ? bytes : 1);
    fill(info.name, info.dtype, data, n);
    inputs[i] = (kiln_tensor){info.name, info.dtype, info.rank, dims[i], data, bytes};
  }

  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = 1;
  kiln_session_t *session = NULL;
  if ((status = kiln_session_create(model, &options, &session)))
    return fail(status);

  /* Outputs by position (name NULL), data NULL: the runtime allocates. */
  kiln_tensor *outputs = calloc(num_outputs, sizeof *outputs);
  if ((status = kiln_session_run(session, inputs, num_inputs, outputs, num_outputs)))
    return fail(status);

  printf("results:\n");
  for (size_t i = 0; i < num_outputs; ++i) {
    const kiln_tensor *t = &outputs[i];
    printf("  output %s: %s ", t->name, kiln_dtype_name(t->dtype));
    print_shape(t->dims, NULL, t->rank);
    printf(" =");
    size_t n = t->byte_size / kiln_dtype_size(t->dtype);
    for (size_t e = 0; e < n && e < 8; ++e)
      printf(" %g", element(t->dtype, t->data, e));
    printf(n > 8 ? " ...\n" : "\n");
    kiln_tensor_free(outputs[i].data);
  }

  kiln_session_release(session);
  for (size_t i = 0; i < num_inputs; ++i)
    free(inputs[i].data);
  free(inputs);
  free(dims);
  free(outputs);
  kiln_model_release(model);
  return 0;
}
