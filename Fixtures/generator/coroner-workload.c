/*
 * coroner-workload: tiny static helper started inside the guest's initramfs.
 * It is copied under several names; what it does depends on the name it runs
 * under (argv[0]'s last component), and the kernel's comm for the process is
 * that name too (at most 15 characters).
 *
 *   coroner-alpha    pinned to CPU 0, spins at nice 19 (running when the crash hits)
 *   coroner-bravo    pinned to CPU 1, sleeps in nanosleep (interruptible)
 *   coroner-charlie  multi-threaded: 3 extra threads named charlie-cond,
 *                    charlie-pipe and charlie-sleep blocked in different ways
 *   coroner-delta    forks a child that renames itself coroner-zombie and exits
 *                    unreaped (zombie), then sleeps
 *   coroner-echo     vfork()s a child (coroner-echo-ch) that sleeps forever, so
 *                    the parent waits uninterruptibly in the vfork completion
 *   coroner-foxtrot  stops itself with SIGSTOP (stopped state)
 *   coroner-crash    pins itself to CPU 1 and writes 'c' to /proc/sysrq-trigger
 *   coroner-init     what PID 1 becomes in the QEMU panic fixture: /init's
 *                    shell execs it (after deleting busybox, so that busybox's
 *                    pages are freed before the crash); it starts coroner-crash
 *                    and waits for its children
 *
 * Build: gcc -static -O2 -pthread -o coroner-workload coroner-workload.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("sched_setaffinity");
}

static void sleep_forever(void)
{
    for (;;) {
        struct timespec ts = { 3600, 0 };
        nanosleep(&ts, NULL);
    }
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int pipefd[2];

static void *thread_cond(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "charlie-cond");
    pthread_mutex_lock(&mtx);
    for (;;)
        pthread_cond_wait(&cond, &mtx);     /* futex wait, never signalled */
    return NULL;
}

static void *thread_pipe(void *arg)
{
    char c;
    (void)arg;
    prctl(PR_SET_NAME, "charlie-pipe");
    for (;;)
        if (read(pipefd[0], &c, 1) <= 0)    /* pipe_read, nobody writes */
            sleep_forever();
    return NULL;
}

static void *thread_sleep(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, "charlie-sleep");
    sleep_forever();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    (void)argc;

    if (strcmp(name, "coroner-alpha") == 0) {
        volatile unsigned long n = 0;
        pin(0);
        setpriority(PRIO_PROCESS, 0, 19);
        for (;;)
            n++;
    } else if (strcmp(name, "coroner-bravo") == 0) {
        pin(1);
        sleep_forever();
    } else if (strcmp(name, "coroner-charlie") == 0) {
        pthread_t t;
        if (pipe(pipefd) != 0)
            return 1;
        pthread_create(&t, NULL, thread_cond, NULL);
        pthread_create(&t, NULL, thread_pipe, NULL);
        pthread_create(&t, NULL, thread_sleep, NULL);
        sleep_forever();
    } else if (strcmp(name, "coroner-delta") == 0) {
        if (fork() == 0) {
            prctl(PR_SET_NAME, "coroner-zombie");
            _exit(7);
        }
        sleep_forever();                    /* never wait()s: child stays a zombie */
    } else if (strcmp(name, "coroner-echo") == 0) {
        if (vfork() == 0) {
            /* The child only makes raw system calls until it sleeps forever. */
            prctl(PR_SET_NAME, "coroner-echo-ch");
            for (;;) {
                struct timespec ts = { 3600, 0 };
                nanosleep(&ts, NULL);
            }
        }
        sleep_forever();
    } else if (strcmp(name, "coroner-foxtrot") == 0) {
        raise(SIGSTOP);
        sleep_forever();
    } else if (strcmp(name, "coroner-crash") == 0) {
        int fd;
        pin(1);
        sched_yield();                      /* let the migration to CPU 1 happen */
        fd = open("/proc/sysrq-trigger", O_WRONLY);
        if (fd < 0 || write(fd, "c", 1) != 1)
            perror("sysrq-trigger");
        return 1;                           /* only reached if the crash failed */
    } else if (strcmp(name, "coroner-init") == 0) {
        if (fork() == 0) {
            execl("/bin/coroner-crash", "coroner-crash", (char *)NULL);
            _exit(127);
        }
        for (;;)                            /* reap children, as PID 1 does */
            if (wait(NULL) < 0)
                sleep_forever();
    }
    fprintf(stderr, "coroner-workload: unknown name %s\n", name);
    return 2;
}
