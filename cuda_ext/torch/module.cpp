// Makes nerfgen._C importable as a Python module. The ops themselves are registered
// into torch.ops.nerfgen by TORCH_LIBRARY_FRAGMENT blocks in the other files of this
// folder; their static initialisers run when Python loads this shared object.
#include <Python.h>

static struct PyModuleDef nerfgen_c_module = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};

PyMODINIT_FUNC PyInit__C(void) { return PyModule_Create(&nerfgen_c_module); }
