/* tables.c -- TCAM databases and hash tables.
 *
 * A TCAM compares a key with every entry at once and answers with the
 * first match in its order; a search takes the same time whatever it
 * holds, and the blocks charge it as one TCAM op. The model gives the same
 * answer with tuple-space search: entries are grouped by their mask (a
 * "tuple"), each group is a hash table of masked values, and a search
 * probes each group once -- so the simulator's cost grows with the number
 * of distinct masks, not with the number of entries. Groups are visited in
 * the order of the best rank they may hold, and the search stops as soon as
 * no remaining group can beat the match found.
 *
 * Hash tables use open addressing with linear probing and backward-shift
 * deletion: a deletion moves later entries of the probe run back instead
 * of leaving a tombstone, so lookups stay as short after ten million
 * add/delete operations as on the first day.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "npcore.h"

/* ------------------------------------------------------------------ */
/* hash map: uint64 -> uint64                                          */
/* ------------------------------------------------------------------ */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

int np_tbl_init_hmap(np_hmap_t *h, uint32_t cap) {
    uint32_t c = 16;
    while (c < cap) c <<= 1;
    h->keys = calloc(c, sizeof *h->keys);
    h->vals = calloc(c, sizeof *h->vals);
    h->used = calloc(c, 1);
    h->cap = c; h->n = 0;
    return (h->keys && h->vals && h->used) ? 0 : -1;
}

static void hmap_free(np_hmap_t *h) { free(h->keys); free(h->vals); free(h->used); memset(h, 0, sizeof *h); }

static uint32_t hmap_find(np_hmap_t *h, uint64_t key, int *found) {
    uint32_t mask = h->cap - 1, i = (uint32_t)mix64(key) & mask, probes = 1;
    while (h->used[i]) {
        if (h->keys[i] == key) { *found = 1; break; }
        i = (i + 1) & mask;
        probes++;
    }
    if (!h->used[i]) *found = 0;
    h->lookups++; h->probes += probes;
    if (probes > h->max_probe) h->max_probe = probes;
    return i;
}

static int hmap_grow(np_hmap_t *h) {
    np_hmap_t n;
    memset(&n, 0, sizeof n);
    if (np_tbl_init_hmap(&n, h->cap * 2)) return -1;
    n.probes = h->probes; n.lookups = h->lookups; n.max_probe = h->max_probe;
    for (uint32_t i = 0; i < h->cap; i++)
        if (h->used[i]) {
            uint32_t j = (uint32_t)mix64(h->keys[i]) & (n.cap - 1);
            while (n.used[j]) j = (j + 1) & (n.cap - 1);
            n.used[j] = 1; n.keys[j] = h->keys[i]; n.vals[j] = h->vals[i]; n.n++;
        }
    hmap_free(h);
    *h = n;
    return 0;
}

static int hmap_set(np_hmap_t *h, uint64_t key, uint64_t val) {
    if ((h->n + 1) * 2 > h->cap && hmap_grow(h)) return -1;     /* load <= 1/2 */
    int found;
    uint32_t i = hmap_find(h, key, &found);
    if (!found) { h->used[i] = 1; h->keys[i] = key; h->n++; }
    h->vals[i] = val;
    return 0;
}

int np_hmap_get(np_hmap_t *h, uint64_t key, uint64_t *val) {
    int found;
    uint32_t i = hmap_find(h, key, &found);
    if (found && val) *val = h->vals[i];
    return found;
}

/* Backward-shift deletion (Knuth 6.4 Algorithm R). */
static int hmap_del(np_hmap_t *h, uint64_t key) {
    int found;
    uint32_t i = hmap_find(h, key, &found), mask = h->cap - 1;
    if (!found) return -1;
    uint32_t j = i;
    for (;;) {
        h->used[i] = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!h->used[j]) { h->n--; return 0; }
            uint32_t k = (uint32_t)mix64(h->keys[j]) & mask;   /* home of the entry at j */
            /* move it to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
            break;
        }
        h->used[i] = 1; h->keys[i] = h->keys[j]; h->vals[i] = h->vals[j];
        i = j;
    }
}

/* ------------------------------------------------------------------ */
/* TCAM: tuple-space search                                            */
/* ------------------------------------------------------------------ */
struct np_tgroup {
    uint32_t mask[NP_KEY_WORDS];
    np_hmap_t h;                 /* hash of masked value -> first entry id of its chain */
    uint32_t n;
    uint64_t min_rank;           /* a lower bound of the ranks it holds */
};

static uint64_t key_hash(const uint32_t *v) {
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < NP_KEY_WORDS; i++) x = mix64(x ^ v[i]) + (uint64_t)i;
    return x;
}

static int same_key(const uint32_t *a, const uint32_t *b) {
    for (int i = 0; i < NP_KEY_WORDS; i++) if (a[i] != b[i]) return 0;
    return 1;
}

static np_table_t *table_get(np_t *m, int table, int kind) {
    if (table < 0 || table >= m->n_tbl) { np_fail(m, "table %d does not exist", table); return NULL; }
    np_table_t *t = m->tbl[table];
    if (t->kind != kind) {
        np_fail(m, "table %s is not a%s table", t->name, kind == NP_TBL_TCAM ? " TCAM" : kind == NP_TBL_HASH ? " hash" : "n array");
        return NULL;
    }
    return t;
}

int np_add_table(np_t *m, int kind, const char *name, const char *format, uint32_t capacity) {
    if (kind != NP_TBL_TCAM && kind != NP_TBL_HASH && kind != NP_TBL_ARRAY) return np_fail(m, "bad table kind %d", kind);
    if (kind == NP_TBL_ARRAY && (!format || np_format_find(format) < 0))
        return np_fail(m, "array table %s needs a record format", name);
    if (capacity < 1) return np_fail(m, "table %s: capacity must be >= 1", name);
    if (format && *format && np_format_find(format) < 0) return np_fail(m, "table %s: unknown key format '%s'", name, format);
    if (m->n_tbl == m->cap_tbl) {
        int nc = m->cap_tbl ? m->cap_tbl * 2 : 8;
        np_table_t **q = realloc(m->tbl, (size_t)nc * sizeof *q);
        if (!q) return np_fail(m, "out of memory");
        m->tbl = q; m->cap_tbl = nc;
    }
    np_table_t *t = calloc(1, sizeof *t);
    if (!t) return np_fail(m, "out of memory");
    t->kind = kind; t->capacity = capacity;
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->format, sizeof t->format, "%s", format ? format : "");
    if (kind == NP_TBL_TCAM) {
        t->e = calloc((size_t)capacity + 1, sizeof *t->e);
        t->free_ids = malloc((size_t)capacity * sizeof *t->free_ids);
        t->next_id = 1;
        if (!t->e || !t->free_ids) { free(t->e); free(t->free_ids); free(t); return np_fail(m, "out of memory"); }
    } else if (kind == NP_TBL_ARRAY) {
        t->words = np_format_words(np_format_find(format));
        t->arr = calloc((size_t)capacity * (size_t)t->words, sizeof *t->arr);
        if (!t->arr) { free(t); return np_fail(m, "out of memory"); }
    } else if (np_tbl_init_hmap(&t->h, 64)) { free(t); return np_fail(m, "out of memory"); }
    m->tbl[m->n_tbl] = t;
    return m->n_tbl++;
}

void np_tbl_free(np_table_t *t) {
    for (uint32_t i = 0; i < t->n_groups; i++) { hmap_free(&t->groups[i]->h); free(t->groups[i]); }
    free(t->groups); free(t->e); free(t->free_ids); free(t->arr);
    hmap_free(&t->h);
}

int np_table_count(np_t *m, int table) {
    if (table < 0 || table >= m->n_tbl) return np_fail(m, "table %d does not exist", table);
    np_table_t *t = m->tbl[table];
    if (t->kind == NP_TBL_ARRAY) {                 /* records that are not all zero */
        int n = 0;
        for (uint32_t i = 0; i < t->capacity; i++)
            for (int k = 0; k < t->words; k++) if (t->arr[(size_t)i * t->words + k]) { n++; break; }
        return n;
    }
    return t->kind == NP_TBL_TCAM ? (int)t->n : (int)t->h.n;
}

/* keep groups sorted by min_rank (few groups: insertion sort) */
static void groups_resort(np_table_t *t, uint32_t k) {
    while (k > 0 && t->groups[k - 1]->min_rank > t->groups[k]->min_rank) {
        np_tgroup_t *g = t->groups[k]; t->groups[k] = t->groups[k - 1]; t->groups[k - 1] = g; k--;
    }
    while (k + 1 < t->n_groups && t->groups[k + 1]->min_rank < t->groups[k]->min_rank) {
        np_tgroup_t *g = t->groups[k]; t->groups[k] = t->groups[k + 1]; t->groups[k + 1] = g; k++;
    }
}

static np_tgroup_t *group_for(np_table_t *t, const uint32_t *mask, int create) {
    for (uint32_t i = 0; i < t->n_groups; i++)
        if (same_key(t->groups[i]->mask, mask)) return t->groups[i];
    if (!create) return NULL;
    if (t->n_groups == t->groups_cap) {
        uint32_t nc = t->groups_cap ? t->groups_cap * 2 : 8;
        np_tgroup_t **q = realloc(t->groups, nc * sizeof *q);
        if (!q) return NULL;
        t->groups = q; t->groups_cap = nc;
    }
    np_tgroup_t *g = calloc(1, sizeof *g);
    if (!g || np_tbl_init_hmap(&g->h, 16)) { free(g); return NULL; }
    memcpy(g->mask, mask, sizeof g->mask);
    g->min_rank = UINT64_MAX;
    t->groups[t->n_groups++] = g;
    return g;
}

static uint32_t group_index(np_table_t *t, np_tgroup_t *g) {
    for (uint32_t i = 0; i < t->n_groups; i++) if (t->groups[i] == g) return i;
    return 0;
}

static void masked(const uint32_t *v, const uint32_t *mask, uint32_t *out) {
    for (int i = 0; i < NP_KEY_WORDS; i++) out[i] = v[i] & mask[i];
}

/* the entry with exactly this value and mask, or 0 */
static int32_t tcam_find(np_table_t *t, const uint32_t *value, const uint32_t *mask) {
    np_tgroup_t *g = group_for(t, mask, 0);
    if (!g) return 0;
    uint32_t mv[NP_KEY_WORDS];
    masked(value, mask, mv);
    uint64_t head;
    if (!np_hmap_get(&g->h, key_hash(mv), &head)) return 0;
    for (int32_t id = (int32_t)head; id; id = t->e[id].next)
        if (same_key(t->e[id].value, mv)) return id;
    return 0;
}

static void chain_insert(np_table_t *t, np_tgroup_t *g, int32_t id) {
    np_tentry_t *e = &t->e[id];
    uint64_t hk = key_hash(e->value), head;
    int have = np_hmap_get(&g->h, hk, &head);
    if (!have || t->e[head].rank > e->rank) {
        e->next = have ? (int32_t)head : 0;
        hmap_set(&g->h, hk, (uint64_t)id);
        return;
    }
    int32_t p = (int32_t)head;
    while (t->e[p].next && t->e[t->e[p].next].rank <= e->rank) p = t->e[p].next;
    e->next = t->e[p].next;
    t->e[p].next = id;
}

static void chain_remove(np_table_t *t, np_tgroup_t *g, int32_t id) {
    np_tentry_t *e = &t->e[id];
    uint64_t hk = key_hash(e->value), head;
    if (!np_hmap_get(&g->h, hk, &head)) return;
    if ((int32_t)head == id) {
        if (e->next) hmap_set(&g->h, hk, (uint64_t)e->next); else hmap_del(&g->h, hk);
        return;
    }
    for (int32_t p = (int32_t)head; p; p = t->e[p].next)
        if (t->e[p].next == id) { t->e[p].next = e->next; return; }
}

int np_tcam_add(np_t *m, int table, const uint32_t *value, const uint32_t *mask, uint64_t rank,
                const np_result_t *res, int replace) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return -1;
    if (replace) {
        int32_t id = tcam_find(t, value, mask);
        if (id) {
            np_tentry_t *e = &t->e[id];
            np_tgroup_t *g = e->g;
            chain_remove(t, g, id);
            e->rank = rank; e->res = *res;
            chain_insert(t, g, id);
            if (rank < g->min_rank) { g->min_rank = rank; groups_resort(t, group_index(t, g)); }
            return id;
        }
    }
    if (t->n >= t->capacity) return np_fail(m, "%s table full (%u entries)", t->name, t->capacity);
    np_tgroup_t *g = group_for(t, mask, 1);
    if (!g) return np_fail(m, "out of memory");
    int32_t id = t->n_free ? t->free_ids[--t->n_free] : (int32_t)t->next_id++;
    np_tentry_t *e = &t->e[id];
    memset(e, 0, sizeof *e);
    masked(value, mask, e->value);
    memcpy(e->mask, mask, sizeof e->mask);
    e->rank = rank; e->res = *res; e->g = g; e->id = id;
    chain_insert(t, g, id);
    g->n++;
    t->n++;
    if (rank < g->min_rank) { g->min_rank = rank; groups_resort(t, group_index(t, g)); }
    return id;
}

int np_tcam_del(np_t *m, int table, int id) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return -1;
    if (id < 1 || (uint32_t)id >= t->next_id || !t->e[id].id) return np_fail(m, "%s: no entry with id %d", t->name, id);
    np_tentry_t *e = &t->e[id];
    np_tgroup_t *g = e->g;
    chain_remove(t, g, id);
    g->n--;
    if (!g->n) {                      /* an empty group goes away */
        uint32_t k = group_index(t, g);
        hmap_free(&g->h); free(g);
        memmove(&t->groups[k], &t->groups[k + 1], (t->n_groups - k - 1) * sizeof *t->groups);
        t->n_groups--;
    }
    memset(e, 0, sizeof *e);
    t->free_ids[t->n_free++] = id;
    t->n--;
    return 0;
}

int np_tcam_find(np_t *m, int table, const uint32_t *value, const uint32_t *mask) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    return t ? tcam_find(t, value, mask) : -1;
}

int np_tcam_get(np_t *m, int table, int id, uint32_t *value, uint32_t *mask, uint64_t *rank,
                np_result_t *res, uint64_t *hits) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return -1;
    if (id < 1 || (uint32_t)id >= t->next_id || !t->e[id].id) return np_fail(m, "%s: no entry with id %d", t->name, id);
    np_tentry_t *e = &t->e[id];
    memcpy(value, e->value, sizeof e->value); memcpy(mask, e->mask, sizeof e->mask);
    *rank = e->rank; *res = e->res; *hits = e->hits;
    return 0;
}

int np_tcam_ids(np_t *m, int table, int32_t *ids, int max) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return -1;
    int n = 0;
    for (uint32_t i = 1; i < t->next_id && n < max; i++) if (t->e[i].id) ids[n++] = (int32_t)i;
    return n;
}

/* The search the blocks make: the best-ranked entry whose (value, mask)
 * matches key. */
const np_tentry_t *np_tcam_match(np_t *m, int table, const uint32_t *key) {
    np_table_t *t = m->tbl[table];
    const np_tentry_t *best = NULL;
    uint32_t mv[NP_KEY_WORDS];
    t->searches++;
    for (uint32_t gi = 0; gi < t->n_groups; gi++) {
        np_tgroup_t *g = t->groups[gi];
        if (best && g->min_rank > best->rank) break;          /* nothing left can win */
        masked(key, g->mask, mv);
        uint64_t head;
        t->probes++;
        if (!np_hmap_get(&g->h, key_hash(mv), &head)) continue;
        uint64_t chain = 0;
        for (int32_t id = (int32_t)head; id; id = t->e[id].next) {
            chain++;
            const np_tentry_t *e = &t->e[id];
            if (!same_key(e->value, mv)) continue;
            if (!best || e->rank < best->rank) best = e;
            break;                                            /* the chain is in rank order */
        }
        if (chain > t->max_chain) t->max_chain = chain;
    }
    if (best) { t->hits++; ((np_tentry_t *)best)->hits++; }
    return best;
}

int np_tcam_search(np_t *m, int table, const uint32_t *key, np_result_t *res) {
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return -1;
    uint32_t k[NP_KEY_WORDS];
    memcpy(k, key, sizeof k);
    const np_tentry_t *e = np_tcam_match(m, table, k);
    if (!e) return 0;
    if (res) *res = e->res;
    return e->id;
}

void np_tcam_stats(np_t *m, int table, np_tcam_stats_t *s) {
    memset(s, 0, sizeof *s);
    np_table_t *t = table_get(m, table, NP_TBL_TCAM);
    if (!t) return;
    s->entries = t->n; s->groups = t->n_groups; s->searches = t->searches; s->hits = t->hits;
    s->probes = t->probes; s->max_chain = t->max_chain;
}

/* ------------------------------------------------------------------ */
/* hash tables                                                         */
/* ------------------------------------------------------------------ */
int np_hash_set(np_t *m, int table, uint64_t key, uint64_t value) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    if (!np_hmap_get(&t->h, key, NULL) && t->h.n >= t->capacity)
        return np_fail(m, "%s table full (%u entries)", t->name, t->capacity);
    if (hmap_set(&t->h, key, value)) return np_fail(m, "out of memory");
    return 0;
}

int np_hash_del(np_t *m, int table, uint64_t key) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    if (hmap_del(&t->h, key)) return np_fail(m, "%s: no entry for key %llu", t->name, (unsigned long long)key);
    return 0;
}

int np_hash_get(np_t *m, int table, uint64_t key, uint64_t *value) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    return np_hmap_get(&t->h, key, value);
}

int np_hash_list(np_t *m, int table, uint64_t *keys, uint64_t *values, int max) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    int n = 0;
    for (uint32_t i = 0; i < t->h.cap && n < max; i++)
        if (t->h.used[i]) { keys[n] = t->h.keys[i]; values[n] = t->h.vals[i]; n++; }
    return n;
}

int np_hash_probe_stats(np_t *m, int table, uint64_t *probes, uint64_t *lookups, uint32_t *max_probe) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    *probes = t->h.probes; *lookups = t->h.lookups; *max_probe = t->h.max_probe;
    t->h.probes = t->h.lookups = 0; t->h.max_probe = 0;      /* per measurement interval */
    return 0;
}

/* Batches: one call for many keys (bulk loads, churn). Each returns how many
 * succeeded; set stops at the first key that does not fit (table full). */
int np_hash_set_many(np_t *m, int table, const uint64_t *keys, const uint64_t *values, int n) {
    for (int i = 0; i < n; i++) if (np_hash_set(m, table, keys[i], values[i]) < 0) return i;
    return n;
}
int np_hash_del_many(np_t *m, int table, const uint64_t *keys, int n) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    int k = 0;
    for (int i = 0; i < n; i++) k += hmap_del(&t->h, keys[i]) == 0;
    return k;
}
int np_hash_get_many(np_t *m, int table, const uint64_t *keys, uint64_t *values, uint8_t *found, int n) {
    np_table_t *t = table_get(m, table, NP_TBL_HASH);
    if (!t) return -1;
    int k = 0;
    for (int i = 0; i < n; i++) { found[i] = (uint8_t)np_hmap_get(&t->h, keys[i], &values[i]); k += found[i]; }
    return k;
}

/* ------------------------------------------------------------------ */
/* array tables                                                        */
/* ------------------------------------------------------------------ */
int np_array_set(np_t *m, int table, uint32_t index, const uint32_t *words) {
    np_table_t *t = table_get(m, table, NP_TBL_ARRAY);
    if (!t) return -1;
    if (index >= t->capacity) return np_fail(m, "%s: record %u is past its %u records", t->name, index, t->capacity);
    memcpy(t->arr + (size_t)index * t->words, words, (size_t)t->words * sizeof *words);
    return 0;
}

int np_array_get(np_t *m, int table, uint32_t index, uint32_t *words) {
    np_table_t *t = table_get(m, table, NP_TBL_ARRAY);
    if (!t) return -1;
    if (index >= t->capacity) return np_fail(m, "%s: record %u is past its %u records", t->name, index, t->capacity);
    memcpy(words, t->arr + (size_t)index * t->words, (size_t)t->words * sizeof *words);
    return t->words;
}
