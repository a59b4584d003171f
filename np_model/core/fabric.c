/* fabric.c -- several machines joined by point-to-point links, run one window per call.
 *
 * Conservative synchronisation of a network of machines (network/sim.py)
 * runs every node to a window bound, then carries the frames each sent to
 * the far ends of their links before the next window. For machines on the
 * compiled engine that is a loop of np_run calls and a copy of each frame;
 * done here it costs no interpreter time per machine or per frame.
 *
 * What a link does is what network.sim.Link and network.router.RouterNode
 * do in Python, with the same arithmetic in the same order (so the two give
 * identical results): the sender's first bit (cycles * 1e9 / f) plus the
 * delay is the receiver's first-bit arrival, rounded up to the receiver's
 * cycles with np_model.timebase's tolerance; a frame whose bytes after the
 * Ethernet header (and its 802.1Q tag) exceed the MTU is lost. An end of a
 * link may be "external" (a node the caller runs): frames for it are staged
 * with their arrival times, frames from it enter with np_fab_send. Links
 * with loss draws or scheduled down times stay with the caller (their
 * streams and schedules live there): such ports' frames are staged. Frames
 * a machine sent in a window are offered to the receivers after every
 * machine has run (np_fab_carry), in the order they were sent, as the
 * Python loop offers them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "npcore.h"

_Static_assert(sizeof(np_fab_dl_t) % 8 == 0, "np_fab_dl_t records follow one another in 8-byte units");

enum { ROUTE_STAGE = 0, ROUTE_LINK = 1 };

typedef struct fab_node {
    np_fab_t *f;
    int idx, flags;
    np_t *m;
    double ns_per_cycle, f_hz;
    int n_port;
    int *route, *link, *dir;     /* per port */
    np_vec_t st_recs, st_data;   /* staged for the caller */
    uint64_t fed, sent;
} fab_node_t;

typedef struct fab_link {
    int node[2], port[2];
    double delay_ns;
    int64_t mtu;
    int capture;
    uint64_t received[2], sent[2], mtu_lost[2];
    uint64_t base[2];            /* np_fab_dl_t.seq of the first frame to an external end, less one */
} fab_link_t;

typedef struct fab_pend {
    int node, port;
    uint64_t cycle;
    uint8_t *data;               /* np_in_alloc'd: the receiver's input queue takes it */
    uint32_t len;
} fab_pend_t;

struct np_fab {
    fab_node_t **node; int n_node, cap_node;
    fab_link_t *link; int n_link, cap_link;
    uint64_t *timers;
    int32_t *rc;
    uint32_t *nstaged;
    np_vec_t pend;
    np_vec_t dl;                 /* frames for external ends, from every node (kind 2): np_fab_dl_t
                                    headers, each followed by its frame padded to 8 bytes */
    uint64_t state[5];           /* what the caller reads: np_fab_state */
    uint64_t gen_told;           /* the arena generation np_fab_step last reported */
    int failed;                  /* the transmit hook could not keep a frame (f->err says why) */
    char err[256];
};

static int ffail(np_fab_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ffail(np_fab_t *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, sizeof f->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* np_model.timebase.ns_to_cycles: round up, tolerant of float noise */
static uint64_t ns_cycles(double ns, double f_hz) {
    double c = ceil(ns * f_hz / 1e9 - 1e-6);
    return c > 0 ? (uint64_t)c : 0;
}

np_fab_t *np_fab_new(void) {
    np_fab_t *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    np_vec_init(&f->pend, sizeof(fab_pend_t));
    np_vec_init(&f->dl, 8);
    if (!np_vec_push(&f->dl, NP_FAB_DL_ARENA / 8)) { np_vec_free(&f->pend); free(f); return NULL; }
    f->dl.n = 0;
    f->state[2] = 1;
    f->state[3] = f->dl.cap * 8;
    return f;
}

void np_fab_free(np_fab_t *f) {
    if (!f) return;
    fab_pend_t *p = f->pend.p;
    for (uint64_t i = 0; i < f->pend.n; i++) np_in_free(p[i].data, p[i].len);
    for (int i = 0; i < f->n_node; i++) {
        fab_node_t *n = f->node[i];
        np_set_tx_hook(n->m, NULL, NULL);
        free(n->route); free(n->link); free(n->dir);
        np_vec_free(&n->st_recs); np_vec_free(&n->st_data);
        free(n);
    }
    free(f->node); free(f->link); free(f->timers); free(f->rc); free(f->nstaged);
    np_vec_free(&f->pend);
    np_vec_free(&f->dl);
    free(f);
}

const char *np_fab_error(np_fab_t *f) { return f->err; }
uint64_t *np_fab_timers(np_fab_t *f) { return f->timers; }
int32_t *np_fab_rc(np_fab_t *f) { return f->rc; }
uint32_t *np_fab_nstaged(np_fab_t *f) { return f->nstaged; }
uint64_t *np_fab_state(np_fab_t *f) { return f->state; }
char *np_fab_deliveries(np_fab_t *f) { return f->dl.p; }

static np_fab_rec_t *stage(fab_node_t *n, const np_tx_rec_t *r, const uint8_t *frame, int kind, int link, int dir) {
    np_fab_rec_t *s = np_vec_push(&n->st_recs, 1);
    uint8_t *d = np_vec_push(&n->st_data, r->len);
    if (!s || (!d && r->len)) { n->f->failed = 1; ffail(n->f, "out of memory"); return NULL; }
    memset(s, 0, sizeof *s);
    s->t_start = r->t_start; s->t_end = r->t_end;
    s->off = (uint64_t)(d - (uint8_t *)n->st_data.p);
    s->len = r->len; s->port = r->port; s->kind = (uint8_t)kind;
    s->link = link; s->dir = dir;
    memcpy(d, frame, r->len);
    n->f->nstaged[n->idx]++;
    return s;
}

/* the link's MTU: bytes after the Ethernet header and its 802.1Q tag */
static int mtu_lost(const fab_link_t *L, const uint8_t *frame, uint32_t len) {
    int64_t l3 = (int64_t)len - ((len >= 14 && frame[12] == 0x81 && frame[13] == 0x00) ? 18 : 14);
    return l3 > L->mtu;
}

static int pend(np_fab_t *f, int node, int port, uint64_t cycle, const uint8_t *frame, uint32_t len) {
    uint8_t *data = np_in_alloc(len);
    fab_pend_t *p = data ? np_vec_push(&f->pend, 1) : NULL;
    if (!p) { np_in_free(data, len); return ffail(f, "out of memory"); }
    p->node = node; p->port = port; p->cycle = cycle; p->len = len; p->data = data;
    memcpy(data, frame, len);
    return 0;
}

/* every frame a fabric machine transmits */
static void tx_hook(void *ctx, np_t *m, const np_tx_rec_t *r, const uint8_t *frame) {
    fab_node_t *n = ctx;
    np_fab_t *f = n->f;
    (void)m;
    int port = r->port;
    if (port >= n->n_port || n->route[port] != ROUTE_LINK) {
        stage(n, r, frame, 0, -1, -1);
        return;
    }
    int li = n->link[port], d = n->dir[port];
    fab_link_t *L = &f->link[li];
    n->sent++;
    L->received[d]++;
    int lost = mtu_lost(L, frame, r->len);
    if (L->capture) {
        np_fab_rec_t *s = stage(n, r, frame, 1, li, d);
        if (s) s->lost = (uint8_t)lost;
    }
    if (lost) { L->mtu_lost[d]++; return; }
    L->sent[d]++;
    double t_first = (double)r->t_start * n->ns_per_cycle + L->delay_ns;
    int to = L->node[1 - d];
    if (to < 0) {                               /* an external end: the caller delivers it */
        uint64_t padded = ((uint64_t)r->len + 7) / 8;
        void *p0 = f->dl.p;
        np_fab_dl_t *s = np_vec_push(&f->dl, sizeof *s / 8 + padded);
        if (!s) { f->failed = 1; ffail(f, "could not stage a %u-byte frame (out of memory)", r->len); return; }
        if (f->dl.p != p0) { f->state[2]++; f->state[3] = f->dl.cap * 8; }
        s->t_first = t_first;
        s->t_last = (double)r->t_end * n->ns_per_cycle + L->delay_ns;
        s->port = (uint16_t)L->port[1 - d]; s->pad = 0;
        s->ext = -1 - to;
        s->seq = L->base[d] + L->sent[d];
        s->start = (uint64_t)((char *)(s + 1) - (char *)f->dl.p);
        s->end = s->start + r->len;
        s->next = f->dl.n * 8;
        if (padded) ((uint64_t *)(s + 1))[padded - 1] = 0;
        memcpy(s + 1, frame, r->len);
        f->state[0]++;
        f->state[1] = f->dl.n * 8;
        return;
    }
    if (pend(f, to, L->port[1 - d], ns_cycles(t_first, f->node[to]->f_hz), frame, r->len) < 0) f->failed = 1;
}

int np_fab_add(np_fab_t *f, np_t *m, int flags) {
    if (!m->started) return ffail(f, "machine not started");
    if (m->tx_hook) return ffail(f, "the machine is already in a fabric");
    if (f->n_node == f->cap_node) {
        int nc = f->cap_node ? 2 * f->cap_node : 8;
        fab_node_t **nn = realloc(f->node, (size_t)nc * sizeof *nn);
        uint64_t *nt = realloc(f->timers, (size_t)nc * sizeof *nt);
        if (nn) f->node = nn;
        if (nt) f->timers = nt;
        int32_t *nr = realloc(f->rc, (size_t)nc * sizeof *nr);
        if (nr) f->rc = nr;
        uint32_t *ns = realloc(f->nstaged, (size_t)nc * sizeof *ns);
        if (ns) f->nstaged = ns;
        if (!nn || !nt || !nr || !ns) return ffail(f, "out of memory");
        f->cap_node = nc;
    }
    fab_node_t *n = calloc(1, sizeof *n);
    if (!n) return ffail(f, "out of memory");
    n->f = f; n->idx = f->n_node; n->m = m; n->flags = flags;
    n->f_hz = (double)m->p.f_me_hz;
    n->ns_per_cycle = 1e9 / (double)m->p.f_me_hz;
    n->n_port = m->n_port;
    n->route = calloc((size_t)(m->n_port ? m->n_port : 1), sizeof(int));
    n->link = calloc((size_t)(m->n_port ? m->n_port : 1), sizeof(int));
    n->dir = calloc((size_t)(m->n_port ? m->n_port : 1), sizeof(int));
    if (!n->route || !n->link || !n->dir) { free(n->route); free(n->link); free(n->dir); free(n); return ffail(f, "out of memory"); }
    np_vec_init(&n->st_recs, sizeof(np_fab_rec_t));
    np_vec_init(&n->st_data, 1);
    f->node[f->n_node] = n;
    f->timers[f->n_node] = UINT64_MAX;
    f->rc[f->n_node] = -1;
    f->nstaged[f->n_node] = 0;
    np_set_tx_hook(m, tx_hook, n);
    return f->n_node++;
}

int np_fab_link(np_fab_t *f, int a, int pa, int b, int pb, double delay_ns, int32_t mtu, int capture) {
    int ends[2][2] = { { a, pa }, { b, pb } };
    if (a < 0 && b < 0) return ffail(f, "a fabric link needs a machine at one end at least");
    for (int e = 0; e < 2; e++) {
        int ni = ends[e][0], p = ends[e][1];
        if (ni < 0) {                       /* external end -1 - ext */
            if (p < 0 || p > 65535) return ffail(f, "link end %d: external port %d out of range", e, p);
            continue;
        }
        if (ni >= f->n_node) return ffail(f, "link end %d: no node %d", e, ni);
        if (p < 0 || p >= f->node[ni]->n_port) return ffail(f, "link end %d: node %d has no port %d", e, ni, p);
        if (f->node[ni]->route[p] == ROUTE_LINK) return ffail(f, "node %d port %d is already linked", ni, p);
    }
    if (a == b && pa == pb) return ffail(f, "a link needs two different ends");
    if (!(delay_ns > 0)) return ffail(f, "link delay must be > 0 ns");
    if (f->n_link == f->cap_link) {
        int nc = f->cap_link ? 2 * f->cap_link : 8;
        fab_link_t *nl = realloc(f->link, (size_t)nc * sizeof *nl);
        if (!nl) return ffail(f, "out of memory");
        f->link = nl; f->cap_link = nc;
    }
    fab_link_t *L = &f->link[f->n_link];
    memset(L, 0, sizeof *L);
    L->node[0] = a; L->port[0] = pa; L->node[1] = b; L->port[1] = pb;
    L->delay_ns = delay_ns; L->mtu = mtu; L->capture = capture;
    for (int e = 0; e < 2; e++) {
        if (ends[e][0] < 0) continue;
        fab_node_t *n = f->node[ends[e][0]];
        n->route[ends[e][1]] = ROUTE_LINK; n->link[ends[e][1]] = f->n_link; n->dir[ends[e][1]] = e;
    }
    return f->n_link++;
}

/* offer a frame to machine n: it takes `data` (np_in_alloc'd) */
static int feed_owned(np_fab_t *f, fab_node_t *n, int port, uint64_t cycle, uint8_t *data, uint32_t len) {
    if (np_feed_owned(n->m, cycle, (uint8_t)port, len, data) < 0) return ffail(f, "node %d: %s", n->idx, n->m->err);
    return 0;
}

static int feed_one(np_fab_t *f, fab_node_t *n, int port, uint64_t cycle, const uint8_t *frame, uint32_t len) {
    uint8_t *data = np_in_alloc(len);
    if (!data) return ffail(f, "out of memory");
    memcpy(data, frame, len);
    return feed_owned(f, n, port, cycle, data, len);
}

int np_fab_carry(np_fab_t *f) {
    fab_pend_t *p = f->pend.p;
    int rc = f->failed ? -1 : 0;
    for (uint64_t i = 0; i < f->pend.n; i++) {
        fab_node_t *to = f->node[p[i].node];
        if (rc == 0) {
            rc = feed_owned(f, to, p[i].port, p[i].cycle, p[i].data, p[i].len);
            if (rc == 0) to->fed++;
        } else np_in_free(p[i].data, p[i].len);
    }
    f->pend.n = 0;
    return rc;
}

int np_fab_run(np_fab_t *f, double until_ns) {
    int attention = 0;
    for (int i = 0; i < f->n_node; i++) {
        fab_node_t *n = f->node[i];
        n->st_recs.n = n->st_data.n = 0;
        f->nstaged[i] = 0;
    }
    f->dl.n = 0;
    f->state[0] = f->state[1] = 0;
    for (int i = 0; i < f->n_node; i++) {
        fab_node_t *n = f->node[i];
        np_t *m = n->m;
        uint64_t until = ns_cycles(until_ns, n->f_hz);
        uint64_t stop = f->timers[i] < until ? f->timers[i] : until;
        int rc = np_run(m, stop, n->flags);
        if (rc < 0) return ffail(f, "node %d: %s", i, m->err);
        /* f->timers[i] <= until: a host timer is due in the window (or at its bound) */
        if (rc == NP_RUN_HOST || rc == NP_RUN_FULL || f->timers[i] <= until || m->tx_out.n >= NP_FAB_DRAIN_RECS
            || m->tx_cap.n >= NP_FAB_DRAIN_BYTES || m->host_out.n || m->drop_out.n || m->trace_out.n || m->ring_out.n) {
            f->rc[i] = rc;
            attention++;
        } else f->rc[i] = -1;
    }
    if (np_fab_carry(f) < 0) return -1;
    f->state[4] = (uint64_t)attention;
    return attention;
}

int np_fab_send(np_fab_t *f, int link, int dir, double t_start_ns, const uint8_t *data, uint32_t len) {
    if (link < 0 || link >= f->n_link || dir < 0 || dir > 1) return ffail(f, "no link %d direction %d", link, dir);
    fab_link_t *L = &f->link[link];
    int to = L->node[1 - dir];
    if (L->node[dir] >= 0 || to < 0) return ffail(f, "link %d direction %d does not run from an external end to a machine", link, dir);
    L->received[dir]++;
    if (mtu_lost(L, data, len)) { L->mtu_lost[dir]++; return 1; }
    L->sent[dir]++;
    fab_node_t *n = f->node[to];
    if (feed_one(f, n, L->port[1 - dir], ns_cycles(t_start_ns + L->delay_ns, n->f_hz), data, len) < 0) return -1;
    n->fed++;
    return 0;
}

int np_fab_send_box(np_fab_t *f, const uint8_t *data, uint64_t nbytes) {
    uint64_t off = 0;
    int lost = 0;
    while (off < nbytes) {
        int32_t link, dir;
        double t_start;
        uint32_t len;
        if (nbytes - off < 28) return ffail(f, "a send record is cut short at byte %llu of %llu",
                                           (unsigned long long)off, (unsigned long long)nbytes);
        memcpy(&link, data + off, 4); memcpy(&dir, data + off + 4, 4);
        memcpy(&t_start, data + off + 8, 8); memcpy(&len, data + off + 24, 4);
        off += 28;
        if (len > nbytes - off) return ffail(f, "a %u-byte frame is cut short at byte %llu of %llu", len,
                                             (unsigned long long)off, (unsigned long long)nbytes);
        int rc = np_fab_send(f, link, dir, t_start, data + off, len);
        if (rc < 0) return -1;
        lost += rc;
        off += len;
    }
    return lost;
}

int np_fab_step(np_fab_t *f, const uint8_t *data, uint64_t nbytes, double until_ns) {
    if (nbytes && np_fab_send_box(f, data, nbytes) < 0) return -1;
    int att = np_fab_run(f, until_ns);
    if (att < 0) return -1;
    if (att > 0 || f->state[2] != f->gen_told) { f->gen_told = f->state[2]; return -2; }
    return f->state[0] > INT32_MAX ? -2 : (int)f->state[0];
}

int np_fab_feed(np_fab_t *f, int node, int port, double t_first_ns, const uint8_t *data, uint32_t len) {
    if (node < 0 || node >= f->n_node) return ffail(f, "no node %d", node);
    fab_node_t *n = f->node[node];
    return feed_one(f, n, port, ns_cycles(t_first_ns, n->f_hz), data, len);
}

int np_fab_staged(np_fab_t *f, int node, np_fab_rec_t **recs, char **data) {
    if (node < 0 || node >= f->n_node) return 0;
    fab_node_t *n = f->node[node];
    *recs = n->st_recs.p; *data = n->st_data.p;
    return (int)n->st_recs.n;
}

int np_fab_link_base(np_fab_t *f, int link, int dir, uint64_t base) {
    if (link < 0 || link >= f->n_link || dir < 0 || dir > 1) return ffail(f, "no link %d direction %d", link, dir);
    f->link[link].base[dir] = base;
    return 0;
}

void np_fab_node_counts(np_fab_t *f, int node, uint64_t *fed, uint64_t *sent) {
    fab_node_t *n = f->node[node];
    *fed = n->fed; *sent = n->sent;
}

void np_fab_link_counts(np_fab_t *f, int link, int dir, uint64_t *received, uint64_t *sent, uint64_t *mtu_lost) {
    fab_link_t *L = &f->link[link];
    *received = L->received[dir]; *sent = L->sent[dir]; *mtu_lost = L->mtu_lost[dir];
}
