/* /proc/PID/status parsing: the fields pypeek uses, including the signal sets the freeze reads
   to hand signals that arrived while frozen to the main thread. */
#include <criterion/criterion.h>

#include "attach/proc.h"

static const char STATUS[] = "Name:\tpython3\n"
                             "State:\tS (sleeping)\n"
                             "Tgid:\t4242\n"
                             "TracerPid:\t0\n"
                             "Threads:\t5\n"
                             "VmRSS:\t   13172 kB\n"
                             "SigQ:\t1/62805\n"
                             "SigPnd:\t0000000000000000\n"
                             "ShdPnd:\t0000000000000202\n"
                             "SigBlk:\t0000000000000200\n"
                             "SigIgn:\t0000000001001000\n";

Test(proc_status, signal_sets)
{
    struct pk_proc_status st;
    cr_assert_eq(pk_proc_status_parse(STATUS, &st), 0);
    cr_assert_eq(st.state, 'S');
    cr_assert_eq(st.threads, 5);
    cr_assert_eq(st.rss_bytes, 13172ull * 1024);
    cr_assert_eq(st.shared_pending, 0x202u); /* SIGINT (2) and SIGUSR1 (10) */
    cr_assert_eq(st.main_blocked, 0x200u);   /* SIGUSR1 */
}

Test(proc_status, malformed_signal_sets_read_as_empty)
{
    struct pk_proc_status st;
    cr_assert_eq(pk_proc_status_parse("State:\tR (running)\nShdPnd:\tzz\nSigBlk:\t123\n", &st), 0);
    cr_assert_eq(st.shared_pending, 0u);
    cr_assert_eq(st.main_blocked, 0u);
}
