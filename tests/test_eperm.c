/* The permission-denied explanations (attach/eperm.c): one test per cause, as strace tests
   each branch of diagnose_attach_eperm. The live cases are in test_attach_errors.py. */
#include <criterion/criterion.h>
#include <string.h>

#include "attach/eperm.h"

static struct pk_eperm_facts base(void)
{
    struct pk_eperm_facts f;
    memset(&f, 0, sizeof f);
    f.pid = 1234;
    f.target_uid = 0;
    f.my_uid = 1000;
    f.yama_scope = -1;
    return f;
}

static void explain(const struct pk_eperm_facts *f, char *out, size_t cap)
{
    pk_eperm_explain(f, out, cap);
    cr_assert(strlen(out) < cap);
}

Test(eperm, another_tracer_is_named_and_nothing_else_is_blamed)
{
    struct pk_eperm_facts f = base();
    f.tracer = 77;
    strcpy(f.tracer_comm, "gdb");
    char out[2048];
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "already traced by process 77 (gdb)"), "%s", out);
    cr_assert_null(strstr(out, "uid"), "%s", out);
}

Test(eperm, other_user_without_cap_sys_ptrace)
{
    struct pk_eperm_facts f = base();
    char out[2048];
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "runs as uid 0, pypeek as uid 1000 without CAP_SYS_PTRACE"), "%s", out);
    cr_assert(strstr(out, "sudo -u '#0' pypeek 1234"), "%s", out);
    cr_assert(strstr(out, "--cap-add SYS_PTRACE"), "%s", out);
    cr_assert(strstr(out, "securityContext"), "%s", out);
}

Test(eperm, yama_scopes)
{
    struct pk_eperm_facts f = base();
    f.target_uid = 1000;
    char out[2048];
    f.yama_scope = 1;
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "ptrace_scope is 1"), "%s", out);
    cr_assert(strstr(out, "ptrace_scope=0"), "%s", out);
    f.yama_scope = 2;
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "ptrace_scope is 2"), "%s", out);
    f.yama_scope = 3;
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "ptrace_scope is 3"), "%s", out);
    cr_assert(strstr(out, "reboot"), "%s", out);
}

Test(eperm, same_user_no_yama_means_not_dumpable)
{
    struct pk_eperm_facts f = base();
    f.target_uid = 1000;
    f.yama_scope = 0;
    char out[2048];
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "not dumpable"), "%s", out);
}

Test(eperm, with_cap_sys_ptrace_blames_lsm_or_namespace)
{
    struct pk_eperm_facts f = base();
    f.have_cap_ptrace = 1;
    char out[2048];
    explain(&f, out, sizeof out);
    cr_assert(strstr(out, "has CAP_SYS_PTRACE"), "%s", out);
    cr_assert(strstr(out, "namespace"), "%s", out);
}

Test(eperm, bounded_by_the_buffer)
{
    struct pk_eperm_facts f = base();
    f.yama_scope = 1;
    char out[40];
    explain(&f, out, sizeof out);
    explain(&f, out, 1);
    cr_assert_eq(out[0], '\0');
}
