/*
 * dl: dlopen on first use (see dl.h for why).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dl.h"

int
dl_load(struct dl_lib *lib, const char *soname, const char *hint,
	const struct dl_sym *syms, struct error *err)
{
	if (lib->handle)
		return 0;
	if (lib->failed)
		return error_set(err, "%s", lib->why);
	lib->handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib->handle) {
		snprintf(lib->why, sizeof(lib->why),
			 "cannot load %s (install the Debian package %s): %s",
			 soname, hint, dlerror());
		lib->failed = true;
		return error_set(err, "%s", lib->why);
	}
	for (const struct dl_sym *s = syms; s->name; s++) {
		*s->slot = dlsym(lib->handle, s->name);
		if (!*s->slot) {
			snprintf(lib->why, sizeof(lib->why),
				 "%s has no symbol '%s'", soname, s->name);
			lib->failed = true;
			dlclose(lib->handle);
			lib->handle = NULL;
			return error_set(err, "%s", lib->why);
		}
	}
	return 0;
}
