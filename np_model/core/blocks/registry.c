/* registry.c -- the block types (blocks.def) and record formats (formats.h)
 * the core knows, and the read-only API Python uses to learn their contracts. */
#include <string.h>
#include "../npcore.h"

#define NP_BLOCK_TYPE(nm) extern const np_block_desc_t np_block_##nm;
#include "blocks.def"
#undef NP_BLOCK_TYPE

#define NP_BLOCK_TYPE(nm) &np_block_##nm,
const np_block_desc_t *const np_block_types[] = {
#include "blocks.def"
};
#undef NP_BLOCK_TYPE
const int np_n_block_types_ = (int)(sizeof np_block_types / sizeof np_block_types[0]);

int np_n_block_types(void) { return np_n_block_types_; }
int np_block_type_find(const char *name) {
    for (int i = 0; i < np_n_block_types_; i++) if (strcmp(np_block_types[i]->name, name) == 0) return i;
    return -1;
}
static const np_block_desc_t *ty(int i) { return (i >= 0 && i < np_n_block_types_) ? np_block_types[i] : NULL; }
const char *np_block_type_name(int i) { return ty(i) ? ty(i)->name : NULL; }
const char *np_block_type_doc(int i) { return ty(i) ? ty(i)->doc : NULL; }
int np_block_type_counts(int i, int *r, int *me, int *tb, int *pa, int *co) {
    const np_block_desc_t *d = ty(i);
    if (!d) return -1;
    *r = d->n_rings; *me = d->n_mems; *tb = d->n_tables; *pa = d->n_params; *co = d->n_counters;
    return 0;
}
const np_ring_port_t *np_block_type_ring(int i, int k) { return ty(i) && k >= 0 && k < ty(i)->n_rings ? &ty(i)->rings[k] : NULL; }
const np_named_t *np_block_type_mem(int i, int k) { return ty(i) && k >= 0 && k < ty(i)->n_mems ? &ty(i)->mems[k] : NULL; }
const np_named_t *np_block_type_table(int i, int k) { return ty(i) && k >= 0 && k < ty(i)->n_tables ? &ty(i)->tables[k] : NULL; }
const np_param_desc_t *np_block_type_param(int i, int k) { return ty(i) && k >= 0 && k < ty(i)->n_params ? &ty(i)->params[k] : NULL; }
const np_named_t *np_block_type_counter(int i, int k) { return ty(i) && k >= 0 && k < ty(i)->n_counters ? &ty(i)->counters[k] : NULL; }

/* ---- formats ---- */
#define NP_GEN_DFIELD(n, w, l, b) { #n, w, l, b },
#define NP_GEN_DFIELDS(fmt, nw, doc) static const np_field_desc_t fields_##fmt[] = { NP_FMT_##fmt(NP_GEN_DFIELD) };
NP_FORMATS(NP_GEN_DFIELDS)
typedef struct { const char *name, *doc; int words; const np_field_desc_t *f; int n; } fmt_t;
#define NP_GEN_FMT(fmt, nw, doc) { #fmt, doc, nw, fields_##fmt, (int)(sizeof fields_##fmt / sizeof fields_##fmt[0]) },
static const fmt_t formats[] = { NP_FORMATS(NP_GEN_FMT) };
static const int n_formats = (int)(sizeof formats / sizeof formats[0]);

int np_n_formats(void) { return n_formats; }
int np_format_find(const char *name) {
    for (int i = 0; i < n_formats; i++) if (strcmp(formats[i].name, name) == 0) return i;
    return -1;
}
const char *np_format_name(int f) { return f >= 0 && f < n_formats ? formats[f].name : NULL; }
const char *np_format_doc(int f) { return f >= 0 && f < n_formats ? formats[f].doc : NULL; }
int np_format_words(int f) { return f >= 0 && f < n_formats ? formats[f].words : -1; }
int np_format_nfields(int f) { return f >= 0 && f < n_formats ? formats[f].n : -1; }
const np_field_desc_t *np_format_field(int f, int i) {
    return f >= 0 && f < n_formats && i >= 0 && i < formats[f].n ? &formats[f].f[i] : NULL;
}
