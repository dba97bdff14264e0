/* usage.h - the --help text. */
#ifndef TS_USAGE_H
#define TS_USAGE_H

#include <stdio.h>

/* Writes the whole --help text to out. */
void usage(FILE *out);

#endif
