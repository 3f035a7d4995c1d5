// RoIAlign row kernel compiled for x86-64-v4 (AVX-512, 16-wide channel vectors). The code
// is roi_align.cpp's, included here so it exists once; roi_align.cpp's entry points pick
// this variant at run time when the CPU has AVX-512.
#define MRCNN_RA_VARIANT avx512
#include "roi_align.cpp"
