/*
 * lamb-init: PID 1 of an execution environment's PID namespace.
 *
 * On AWS the runtime is not PID 1: the sandbox's init reaps orphaned
 * processes, so zombies never pile up against the process quota, and when
 * it ends every process of the environment ends with it. This is that init,
 * as a few kilobytes of C instead of a fork of the Python zygote (which cost
 * ~1 ms of every cold start and ~1 MB of copied pages per environment).
 *
 *   lamb-init        (stdin: one byte per request; stdout: one pid per line)
 *
 * Started once per zygote (posix_spawn, so nothing of the zygote is copied),
 * it serves the zygote for as long as it lives: for each byte it reads, it
 * clones PID 1 of a new PID namespace as a child of the zygote itself
 * (CLONE_PARENT) and writes that child's pid, or -errno, on a line. One clone
 * of this small process per environment instead of a spawn and an exec
 * (~0.3 ms). The zygote then forks the runtime into the namespace (setns on a
 * pidfd). PID 1 does nothing but reap; it dies with the zygote
 * (PR_SET_PDEATHSIG) and is killed by it when the runtime ends, which ends
 * the namespace and every process left in it. PID 1 stays in the zygote's
 * cgroups: the runtime joins the environment's cgroups and everything the
 * function starts descends from it, so only the function's processes count
 * against its limits. The server itself ends when the zygote closes its end
 * of the pipe, or dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void reap_forever(void) {
    sigset_t set;
    sigfillset(&set);
    sigprocmask(SIG_BLOCK, &set, NULL); /* PID 1: nothing from inside can stop it */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        sigwaitinfo(&set, NULL);
    }
}

static void become_pid1(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the parent is the zygote (CLONE_PARENT) */
    prctl(PR_SET_NAME, "lamb-init");
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++)
        dup2(null, fd);
    syscall(SYS_close_range, 3, ~0U, 0);
    reap_forever();
}

int main(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char request;
    for (;;) {
        ssize_t n = read(0, &request, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0; /* the zygote is gone */
        long pid = syscall(SYS_clone, CLONE_NEWPID | CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (pid == 0)
            become_pid1();
        char out[32];
        int len = snprintf(out, sizeof out, "%ld\n", pid < 0 ? -(long)errno : pid);
        if (write_all(1, out, (size_t)len) < 0)
            return 1;
    }
}
