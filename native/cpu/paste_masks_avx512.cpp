// Mask paste, CPU, AVX-512 build (-march=x86-64-v4) of the loops in paste_masks.cpp: the same
// source, compiled again under another namespace; paste_masks.cpp picks it at run time.
#define MRCNN_PASTE_VARIANT avx512
#include "paste_masks.cpp"
