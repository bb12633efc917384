#ifndef LM_DL_H
#define LM_DL_H
/*
 * dl: load a shared library when it is first needed.
 *
 * libvips takes ~22 ms to load and libcurl ~6 ms; a no-op build needs
 * neither. So the one file that owns such a library declares a table of
 * the functions it uses and calls dl_load() before its first use.
 *
 *   static __typeof__(curl_easy_init) *p_curl_easy_init;
 *   static const struct dl_sym syms[] = {
 *       DL_SYM(curl_easy_init), ..., { 0 } };
 *   if (dl_load(&lib, "libcurl.so.4", syms, err) < 0) ...
 */
#include <stdbool.h>

#include "util.h"

struct dl_sym {
	const char *name; /* symbol in the library */
	void **slot;      /* where its address goes */
};
#define DL_SYM(fn) { #fn, (void **)&p_##fn }

struct dl_lib {
	void *handle; /* NULL until loaded */
	bool failed;  /* a failed load is not retried */
	char why[256];
};

/*
 * Load soname (once) and fill every slot of syms (ended by a NULL name).
 * Returns 0, or -1 with err naming the library and the Debian package
 * that provides it (hint).
 */
int dl_load(struct dl_lib *lib, const char *soname, const char *hint,
	    const struct dl_sym *syms, struct error *err);

#endif
