/* The smallest Kiln application: load, run on ones, print output sums. */
#include <kiln/kiln.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s model.so\n", argv[0]);
    return 2;
  }
  kiln_model_t *model = NULL;
  kiln_session_t *session = NULL;
  kiln_status_t st = kiln_model_load(argv[1], &model);
  if (!st)
    st = kiln_session_create(model, NULL, &session);
  if (st) {
    fprintf(stderr, "error: %s\n", kiln_status_message(st));
    kiln_status_free(st);
    kiln_model_release(model);
    return 1;
  }

  /* Every input float32 filled with ones, symbolic dims 2. */
  size_t n_in = kiln_model_num_inputs(model), n_out = kiln_model_num_outputs(model);
  kiln_tensor *in = calloc(n_in, sizeof *in), *out = calloc(n_out, sizeof *out);
  int64_t(*dims)[KILN_MAX_RANK] = calloc(n_in, sizeof *dims);
  for (size_t i = 0; i < n_in; ++i) {
    kiln_tensor_info info;
    kiln_model_input_info(model, i, &info);
    size_t n = 1;
    for (int32_t d = 0; d < info.rank; ++d)
      n *= (size_t)(dims[i][d] = info.dims[d] < 0 ? 2 : info.dims[d]);
    float *data = malloc(n * sizeof(float) + 1);
    for (size_t e = 0; e < n; ++e)
      data[e] = 1.0f;
    in[i] = (kiln_tensor){info.name, info.dtype, info.rank, dims[i], data, n * sizeof(float)};
  }
  st = kiln_session_run(session, in, n_in, out, n_out);
  if (st) {
    fprintf(stderr, "error: %s\n", kiln_status_message(st));
    kiln_status_free(st);
    return 1;
  }
  for (size_t i = 0; i < n_out; ++i) {
    double sum = 0;
    for (size_t e = 0; e < out[i].byte_size / sizeof(float); ++e)
      sum += ((const float *)out[i].data)[e];
    printf("%s: sum %g\n", out[i].name, sum);
    kiln_tensor_free(out[i].data);
  }
  for (size_t i = 0; i < n_in; ++i)
    free(in[i].data);
  free(in);
  free(out);
  free(dims);
  kiln_session_release(session);
  kiln_model_release(model);
  printf("kiln runtime %s: ok\n", kiln_runtime_version());
  return 0;
}
