/* A tiny user program built by check_install.sh with
 * `cc install_app.c $(pkg-config --cflags --libs seqrnn)`: it creates a model,
 * runs it, and checks that the header and the library agree. */
#include <seqrnn.h>

#include <stdio.h>

int main(void) {
  if (seqrnn_version_number() != SEQRNN_VERSION_NUMBER) {
    fprintf(stderr, "header %d, library %u\n", SEQRNN_VERSION_NUMBER,
            (unsigned)seqrnn_version_number());
    return 1;
  }
  seqrnn_model_params params = seqrnn_model_default_params();
  params.input_size = 2;
  params.hidden_size = 4;
  seqrnn_model *model = NULL;
  if (seqrnn_model_create(&params, &model) != SEQRNN_OK) {
    fprintf(stderr, "create: %s\n", seqrnn_last_error());
    return 1;
  }
  const float features[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  float outputs[3];
  seqrnn_batch batch = seqrnn_batch_init(1, 3);
  batch.features = features;
  seqrnn_status status =
      seqrnn_model_forward(model, &batch, outputs, 3, NULL, NULL, 0, NULL);
  seqrnn_model_free(model);
  if (status != SEQRNN_OK) {
    fprintf(stderr, "forward: %s\n", seqrnn_last_error());
    return 1;
  }
  printf("seqrnn %s works: outputs %g %g %g\n", seqrnn_version_string(),
         outputs[0], outputs[1], outputs[2]);
  return 0;
}
