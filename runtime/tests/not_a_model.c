/* A shared library that is not a Kiln model: it has no kiln_model_abi. */
__attribute__((visibility("default"))) int not_a_kiln_model(void) { return 42; }
