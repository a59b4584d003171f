/* worker.c -- the process a plug-in's code runs in.
 *
 * The simulator (np_model/core/plugin_rt.c) starts one worker per loaded
 * plug-in as
 *     vrh-plugin-worker REGION_FD SO_FD SO_PATH PARENT_PID
 * with the shared region (a memfd, layout in plugin_worker.h) on REGION_FD
 * and the plug-in's shared object open on SO_FD. The worker maps the
 * region, loads the plug-in, finds its entry points and binds the plug-in
 * API (plugin_worker.c), then closes every other file descriptor and
 * installs a seccomp-BPF filter under which the only system calls that
 * succeed are futex (the mailbox), getppid (the watcher below),
 * rt_sigreturn and exit_group with the worker's own status: any other
 * system call -- exit, fork, kill, sleep, open, write, mmap/brk (so malloc
 * cannot grow), close, signal changes -- raises SIGSYS, which abandons the
 * call (VRHW_SYSCALL, with the call's number). A foreign architecture's
 * system calls kill the worker.
 *
 * Calls run on their own 8 MB stack between guard pages, so a stack smash
 * or runaway recursion faults instead of reaching the loop's frame.
 * A watcher thread ends the worker within 0.1 s of the simulator's exit
 * (polling getppid(): PR_SET_PDEATHSIG would fire when the *thread* that
 * started the worker ends, which a simulator run from a thread would
 * trip over). The simulator kills the worker with SIGKILL when the
 * plug-in is unloaded or a call overruns its wall-clock watchdog.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "plugin_worker.h"

#if defined(__x86_64__)
#define VRHW_ARCH AUDIT_ARCH_X86_64
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define VRHW_ARCH AUDIT_ARCH_AARCH64
#define cpu_relax() __asm__ __volatile__("yield")
#else
#error "the plug-in worker's system-call filter knows x86-64 and AArch64 only"
#endif

#define STACK_BYTES (8u << 20)
#define GUARD_BYTES (64u << 10)

static vrhw_t W;
static pid_t g_parent;
static uint32_t g_nap, g_watching;

static long futex(uint32_t *w, int op, uint32_t v, const struct timespec *t) {
    return syscall(SYS_futex, w, op, v, t, NULL, 0);
}

static void die(void) {
    for (;;) syscall(SYS_exit_group, VRHW_EXIT_CODE);
}

/* Ends the worker when the simulator is gone. */
static void *watch(void *arg) {
    (void)arg;
    struct timespec t = { 0, 100 * 1000 * 1000 };
    __atomic_store_n(&g_watching, 1, __ATOMIC_SEQ_CST);        /* glibc's thread start-up is over */
    futex(&g_watching, FUTEX_WAKE_PRIVATE, 1, NULL);
    for (;;) {
        futex(&g_nap, FUTEX_WAIT_PRIVATE, 0, &t);
        if (syscall(SYS_getppid) != g_parent) die();
    }
    return NULL;
}

static int install_filter(void) {
    struct sock_filter f[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRHW_ARCH, 1, 0),
        /* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_futex, 6, 0),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 5, 0),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 4, 0),
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 2),
        /* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRHW_EXIT_CODE, 1, 0),
        /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = (unsigned short)(sizeof f / sizeof f[0]), .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) == 0 ? 0 : -1;
}

/* Tell the simulator the worker is ready (error "") or why it is not. */
static void ready(vrhw_hdr_t *H, const char *error) {
    snprintf(H->error, sizeof H->error, "%s", error);
    __atomic_store_n(&H->done, 1, __ATOMIC_SEQ_CST);
    futex(&H->done, FUTEX_WAKE, INT_MAX, NULL);
}

/* Poll for the next request (at most max polls, about 20 us; halved after a
 * wait the poll did not catch, retried every 64 waits once at 0), then sleep. */
static uint32_t wait_request(vrhw_hdr_t *H, uint32_t last, uint32_t max) {
    static uint32_t spin = UINT32_MAX, waits;
    if (spin > max) spin = max;
    uint32_t n = spin ? spin : (++waits % 64 ? 0 : max / 8);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = __atomic_load_n(&H->req, __ATOMIC_ACQUIRE);
        if (r != last) { if (!spin) spin = n; return r; }
        cpu_relax();
    }
    spin /= 2;
    if (spin < 16) spin = 0;
    for (;;) {
        __atomic_store_n(&H->w_sleep, 1, __ATOMIC_SEQ_CST);
        uint32_t r = __atomic_load_n(&H->req, __ATOMIC_SEQ_CST);
        if (r == last) futex(&H->req, FUTEX_WAIT, last, NULL);
        __atomic_store_n(&H->w_sleep, 0, __ATOMIC_SEQ_CST);
        r = __atomic_load_n(&H->req, __ATOMIC_ACQUIRE);
        if (r != last) return r;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s REGION_FD SO_FD SO_PATH PARENT_PID (started by the simulator)\n", argv[0]);
        return 2;
    }
    int rfd = atoi(argv[1]), sofd = atoi(argv[2]);
    g_parent = (pid_t)atol(argv[4]);
    if (getppid() != g_parent) return 3;              /* the simulator is already gone */
    struct stat st;
    if (fstat(rfd, &st) || (uint64_t)st.st_size < sizeof(vrhw_hdr_t)) return 4;
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, rfd, 0);
    if (map == MAP_FAILED) return 5;
    vrhw_hdr_t *H = map;
    char err[256], path[64];
    if (vrhw_attach(&W, map, (uint64_t)st.st_size, err, sizeof err)) { ready(H, err); return 6; }
    uint32_t spin = H->spin;

    struct rlimit zero = { 0, 0 };
    setrlimit(RLIMIT_CORE, &zero);
    snprintf(path, sizeof path, "/proc/self/fd/%d", sofd);
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) dl = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
    if (!dl) { snprintf(err, sizeof err, "cannot load it: %s", dlerror()); ready(H, err); return 7; }
    if (vrhw_bind(&W, dl, err, sizeof err)) { ready(H, err); return 8; }

    uint8_t *stk = mmap(NULL, STACK_BYTES + 2 * GUARD_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stk == MAP_FAILED || mprotect(stk + GUARD_BYTES, STACK_BYTES, PROT_READ | PROT_WRITE)) {
        ready(H, "cannot map the call stack");
        return 9;
    }
    W.stack = stk + GUARD_BYTES;
    W.stack_size = STACK_BYTES;
    vrhw_install_handlers(1);
    pthread_t th;
    if (pthread_create(&th, NULL, watch, NULL)) { ready(H, "cannot start the watcher thread"); return 10; }
    while (!__atomic_load_n(&g_watching, __ATOMIC_SEQ_CST)) futex(&g_watching, FUTEX_WAIT_PRIVATE, 0, NULL);
    syscall(SYS_close_range, 3u, ~0u, 0u);            /* the region and the object stay mapped */
    if (install_filter()) {
        snprintf(err, sizeof err, "the kernel refused the system-call filter (seccomp): %s", strerror(errno));
        ready(H, err);
        return 11;
    }
    ready(H, "");
    uint32_t last = 1;
    for (;;) {
        uint32_t r = wait_request(H, last, spin);
        vrhw_serve(&W);
        H->r.seq = r;
        __atomic_store_n(&H->done, r, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&H->s_sleep, __ATOMIC_SEQ_CST)) futex(&H->done, FUTEX_WAKE, INT_MAX, NULL);
        last = r;
    }
}
