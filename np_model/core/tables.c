/* tables.c -- the TCAM databases the PLC block searches.
 *
 * A TCAM returns the highest-priority matching entry in one search. The
 * model gives the same answer with ordinary data structures:
 *   route DB  : longest prefix match on (daddr, input port or any),
 *               one hash table per prefix length [C-code: 33 length classes];
 *   filter DBs: value/mask match on the 144-bit key, entries kept sorted by
 *               priority (lower number first), first match wins; ties go to
 *               the entry installed first, as TCAM order would;
 *   ARP DB    : next-hop IP -> MAC.
 * The time a search takes is not here: PLC charges a TCAM op for it.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "npcore.h"

static uint32_t mix32(uint32_t x) {
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}
static uint32_t plen_mask(int plen) { return plen == 0 ? 0 : 0xFFFFFFFFu << (32 - plen); }
static uint32_t rt_key(uint32_t prefix, int plen, int in_port) {
    return mix32(prefix ^ ((uint32_t)plen << 24) ^ ((uint32_t)(in_port + 1) * 0x9E3779B1u));
}

int np_tbl_init(np_t *m) {
    m->rt = calloc(NP_RT_CAP, sizeof *m->rt);
    m->rt_hash_cap = 2 * 32768;
    m->rt_hash = malloc(m->rt_hash_cap * sizeof *m->rt_hash);
    m->pf = calloc(NP_PF_CAP, sizeof *m->pf);
    m->af = calloc(NP_AF_CAP, sizeof *m->af);
    m->arp_cap = 2 * 32768;
    m->arp = calloc(m->arp_cap, sizeof *m->arp);
    if (!m->rt || !m->rt_hash || !m->pf || !m->af || !m->arp) return -1;
    for (uint32_t i = 0; i < m->rt_hash_cap; i++) m->rt_hash[i] = -1;
    m->pf_next_id = m->af_next_id = 1;
    return 0;
}

void np_tbl_free(np_t *m) {
    free(m->rt); free(m->rt_hash); free(m->pf); free(m->af); free(m->arp);
}

/* ---- routes ---- */
static int32_t *rt_slot(np_t *m, uint32_t prefix, int plen, int in_port, int for_insert) {
    uint32_t i = rt_key(prefix, plen, in_port) & (m->rt_hash_cap - 1);
    int32_t *tomb = NULL;
    for (;;) {
        int32_t v = m->rt_hash[i];
        if (v == -1) return (for_insert && tomb) ? tomb : &m->rt_hash[i];
        if (v == -2) { if (!tomb) tomb = &m->rt_hash[i]; }
        else {
            np_route_t *r = &m->rt[v].r;
            if (r->prefix == prefix && r->plen == plen && r->in_port == in_port) return &m->rt_hash[i];
        }
        i = (i + 1) & (m->rt_hash_cap - 1);
    }
}

int np_route_add(np_t *m, const np_route_t *r) {
    if (r->plen > 32) { snprintf(m->err, sizeof m->err, "prefix length %d > 32", r->plen); return -1; }
    if (r->in_port >= m->n_port || (r->in_port < -1)) { snprintf(m->err, sizeof m->err, "route input port %d does not exist", r->in_port); return -1; }
    if (!(r->flags & (NP_RT_LOCAL | NP_RT_MCAST)) && r->out_port >= m->n_port) {
        snprintf(m->err, sizeof m->err, "route output port %d does not exist (0..%d)", r->out_port, m->n_port - 1); return -1;
    }
    if (r->qid >= NP_QUEUES_PER_PORT) { snprintf(m->err, sizeof m->err, "queue id %d out of range", r->qid); return -1; }
    uint32_t prefix = r->prefix & plen_mask(r->plen);
    int32_t *s = rt_slot(m, prefix, r->plen, r->in_port, 0);
    int idx;
    if (*s >= 0) idx = *s;                     /* replace */
    else {
        if (m->n_rt >= NP_RT_CAP) { snprintf(m->err, sizeof m->err, "route table full (%d entries)", NP_RT_CAP); return -1; }
        idx = -1;
        for (int i = 0; i < NP_RT_CAP; i++) if (!m->rt[i].used) { idx = i; break; }
        s = rt_slot(m, prefix, r->plen, r->in_port, 1);
        *s = idx;
        m->n_rt++;
    }
    m->rt[idx].r = *r;
    m->rt[idx].r.prefix = prefix;
    m->rt[idx].used = 1;
    m->rt_lens |= 1ULL << r->plen;
    return idx;
}

int np_route_del(np_t *m, uint32_t prefix, int plen, int in_port) {
    if (plen < 0 || plen > 32) return -1;
    prefix &= plen_mask(plen);
    int32_t *s = rt_slot(m, prefix, plen, in_port, 0);
    if (*s < 0) { snprintf(m->err, sizeof m->err, "no such route"); return -1; }
    m->rt[*s].used = 0;
    *s = -2;
    m->n_rt--;
    /* recompute the length bitmap */
    m->rt_lens = 0;
    for (int i = 0; i < NP_RT_CAP; i++) if (m->rt[i].used) m->rt_lens |= 1ULL << m->rt[i].r.plen;
    return 0;
}

int np_route_count(np_t *m) { return m->n_rt; }

const np_route_t *np_tbl_route(np_t *m, uint32_t daddr, int in_port) {
    uint64_t lens = m->rt_lens;
    for (int plen = 32; plen >= 0; plen--) {
        if (!(lens & (1ULL << plen))) continue;
        uint32_t prefix = daddr & plen_mask(plen);
        int32_t *s = rt_slot(m, prefix, plen, in_port, 0);
        if (*s >= 0) return &m->rt[*s].r;
        s = rt_slot(m, prefix, plen, -1, 0);
        if (*s >= 0) return &m->rt[*s].r;
    }
    return NULL;
}

/* ---- filters ---- */
int np_filter_add(np_t *m, int aux, const np_fkey_t *k, const np_faction_t *a) {
    np_filt_t *tab = aux ? m->af : m->pf;
    int *n = aux ? &m->n_af : &m->n_pf;
    int cap = aux ? NP_AF_CAP : NP_PF_CAP;
    if (*n >= cap) { snprintf(m->err, sizeof m->err, "%s filter table full (%d entries)", aux ? "auxiliary" : "primary", cap); return -1; }
    if (a->prio > 63) { snprintf(m->err, sizeof m->err, "filter priority %d out of range 0..63", a->prio); return -1; }
    if (k->in_port >= m->n_port || k->in_port < -1) { snprintf(m->err, sizeof m->err, "filter input port %d does not exist", k->in_port); return -1; }
    if (a->kind > NP_FA_XSCALE) { snprintf(m->err, sizeof m->err, "bad filter action %d", a->kind); return -1; }
    if ((a->kind == NP_FA_QUEUE) && a->port >= m->n_port) { snprintf(m->err, sizeof m->err, "filter output port %d does not exist", a->port); return -1; }
    if (a->kind == NP_FA_PLUGIN && a->plugin >= NP_MAX_PLUGINS) { snprintf(m->err, sizeof m->err, "plug-in %d does not exist (0..4)", a->plugin); return -1; }
    if (a->qid >= NP_QUEUES_PER_PORT) { snprintf(m->err, sizeof m->err, "queue id %d out of range", a->qid); return -1; }
    int pos = *n;
    while (pos > 0 && tab[pos - 1].a.prio > a->prio) pos--;
    memmove(&tab[pos + 1], &tab[pos], (size_t)(*n - pos) * sizeof *tab);
    np_filt_t *f = &tab[pos];
    memset(f, 0, sizeof *f);
    f->k = *k; f->a = *a; f->used = 1;
    f->k.daddr &= k->daddr_mask; f->k.saddr &= k->saddr_mask;
    f->k.dport &= k->dport_mask; f->k.sport &= k->sport_mask;
    f->k.proto &= k->proto_mask; f->k.ptag &= k->ptag_mask; f->k.tcp_flags &= k->tcp_flags_mask;
    f->id = aux ? m->af_next_id++ : m->pf_next_id++;
    (*n)++;
    return f->id;
}

int np_filter_del(np_t *m, int aux, int id) {
    np_filt_t *tab = aux ? m->af : m->pf;
    int *n = aux ? &m->n_af : &m->n_pf;
    for (int i = 0; i < *n; i++) if (tab[i].id == id) {
        memmove(&tab[i], &tab[i + 1], (size_t)(*n - i - 1) * sizeof *tab);
        (*n)--;
        return 0;
    }
    snprintf(m->err, sizeof m->err, "no %s filter with id %d", aux ? "auxiliary" : "primary", id);
    return -1;
}

int np_filter_count(np_t *m, int aux) { return aux ? m->n_af : m->n_pf; }

static int fmatch(const np_fkey_t *f, const np_fkey_t *p) {
    return (p->daddr & f->daddr_mask) == f->daddr && (p->saddr & f->saddr_mask) == f->saddr
        && (p->dport & f->dport_mask) == f->dport && (p->sport & f->sport_mask) == f->sport
        && (p->proto & f->proto_mask) == f->proto && (p->ptag & f->ptag_mask) == f->ptag
        && (p->tcp_flags & f->tcp_flags_mask) == f->tcp_flags
        && (f->in_port < 0 || f->in_port == p->in_port);
}

const np_filt_t *np_tbl_filter(np_t *m, int aux, const np_fkey_t *pkt) {
    np_filt_t *tab = aux ? m->af : m->pf;
    int n = aux ? m->n_af : m->n_pf;
    for (int i = 0; i < n; i++) if (fmatch(&tab[i].k, pkt)) { tab[i].hits++; return &tab[i]; }
    return NULL;
}

/* ---- ARP ---- */
static np_arpent_t *arp_find(np_t *m, uint32_t ip, int for_insert) {
    uint32_t i = mix32(ip) & (m->arp_cap - 1);
    np_arpent_t *tomb = NULL;
    for (;;) {
        np_arpent_t *e = &m->arp[i];
        if (e->used == 0) return (for_insert && tomb) ? tomb : (for_insert ? e : NULL);
        if (e->used == 2) { if (!tomb) tomb = e; }
        else if (e->ip == ip) return e;
        i = (i + 1) & (m->arp_cap - 1);
    }
}

int np_arp_set(np_t *m, uint32_t ip, uint64_t mac) {
    np_arpent_t *e = arp_find(m, ip, 0);
    if (!e) {
        if (m->n_arp >= NP_ARP_CAP) { snprintf(m->err, sizeof m->err, "ARP table full (%d entries)", NP_ARP_CAP); return -1; }
        e = arp_find(m, ip, 1);
        m->n_arp++;
    }
    e->ip = ip; e->mac = mac & 0xFFFFFFFFFFFFULL; e->used = 1;
    return 0;
}

int np_arp_del(np_t *m, uint32_t ip) {
    np_arpent_t *e = arp_find(m, ip, 0);
    if (!e) { snprintf(m->err, sizeof m->err, "no ARP entry"); return -1; }
    e->used = 2;
    m->n_arp--;
    return 0;
}

int np_arp_get(np_t *m, uint32_t ip, uint64_t *mac) { return np_tbl_arp(m, ip, mac); }

int np_arp_list(np_t *m, uint32_t *ips, uint64_t *macs, int max) {
    int n = 0;
    for (uint32_t i = 0; i < m->arp_cap && n < max; i++)
        if (m->arp[i].used == 1) { ips[n] = m->arp[i].ip; macs[n] = m->arp[i].mac; n++; }
    return n;
}

int np_tbl_arp(np_t *m, uint32_t ip, uint64_t *mac) {
    np_arpent_t *e = arp_find(m, ip, 0);
    if (!e) return 0;
    *mac = e->mac;
    return 1;
}
