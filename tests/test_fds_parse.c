/* /proc fd facts: fdinfo, limits, link kinds, fd numbers and the network tables, with the
   kernel's own line formats and hostile variants (overlong numbers, truncated lines). */
#include <criterion/criterion.h>
#include <string.h>

#include "attach/fds.h"
#include "attach/net.h"

Test(fds, fdinfo_pos_and_octal_flags)
{
    uint32_t flags = 0;
    int64_t pos = -1;
    cr_assert_eq(
        pk_fdinfo_parse("pos:\t4096\nflags:\t02100002\nmnt_id:\t24\nino:\t7\n", &flags, &pos), 0);
    cr_assert_eq(pos, 4096);
    cr_assert_eq(flags, 02100002u);
}

Test(fds, fdinfo_refuses_garbage)
{
    uint32_t flags;
    int64_t pos;
    cr_assert_eq(pk_fdinfo_parse("pos:\t12x\nflags:\t02\n", &flags, &pos), -1);
    cr_assert_eq(pk_fdinfo_parse("pos:\t1\nflags:\t09\n", &flags, &pos), -1, "9 is not octal");
    cr_assert_eq(pk_fdinfo_parse("pos:\t99999999999999999999999\nflags:\t0\n", &flags, &pos), -1);
    cr_assert_eq(pk_fdinfo_parse("", &flags, &pos), -1);
}

Test(fds, limits_line)
{
    int64_t soft, hard;
    const char *text =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max processes             63556                63556                processes \n"
        "Max open files            1024                 524288               files     \n";
    cr_assert_eq(pk_fds_limits_parse(text, &soft, &hard), 0);
    cr_assert_eq(soft, 1024);
    cr_assert_eq(hard, 524288);
    cr_assert_eq(pk_fds_limits_parse(
                     "Max open files            unlimited            unlimited            files\n",
                     &soft, &hard),
                 0);
    cr_assert_eq(soft, -1);
    cr_assert_eq(pk_fds_limits_parse("Max open files  12a  3\n", &soft, &hard), -1);
    cr_assert_eq(pk_fds_limits_parse("Max processes 1 2\n", &soft, &hard), -1);
}

Test(fds, kinds_from_links)
{
    uint64_t ino;
    cr_assert_eq(pk_fd_kind_from_link("socket:[123456]", &ino), PK_FD_SOCKET);
    cr_assert_eq(ino, 123456);
    cr_assert_eq(pk_fd_kind_from_link("pipe:[77]", &ino), PK_FD_PIPE);
    cr_assert_eq(ino, 77);
    cr_assert_eq(pk_fd_kind_from_link("socket:[12", &ino), PK_FD_SOCKET);
    cr_assert_eq(ino, 0, "a truncated inode is not trusted");
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:[eventfd]", &ino), PK_FD_EVENTFD);
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:[eventpoll]", &ino), PK_FD_EPOLL);
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:[timerfd]", &ino), PK_FD_TIMERFD);
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:[signalfd]", &ino), PK_FD_SIGNALFD);
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:inotify", &ino), PK_FD_INOTIFY);
    cr_assert_eq(pk_fd_kind_from_link("anon_inode:[pidfd]", &ino), PK_FD_ANON_INODE);
    cr_assert_eq(pk_fd_kind_from_link("/memfd:buf (deleted)", &ino), PK_FD_MEMFD);
    cr_assert_eq(pk_fd_kind_from_link("/var/log/x", &ino), PK_FD_KIND_COUNT, "paths need a stat");
    cr_assert_str_eq(pk_fd_kind_name(PK_FD_TCP6), "tcp6");
    cr_assert_str_eq(pk_fd_kind_name(PK_FD_ANON_INODE), "anon_inode");
}

Test(fds, fd_numbers)
{
    cr_assert_eq(pk_parse_fd("0"), 0);
    cr_assert_eq(pk_parse_fd("2147483647"), 2147483647);
    cr_assert_eq(pk_parse_fd("2147483648"), -1);
    cr_assert_eq(pk_parse_fd("."), -1);
    cr_assert_eq(pk_parse_fd("3a"), -1);
    cr_assert_eq(pk_parse_fd(""), -1);
}

Test(net, tcp_v4_listen_and_established)
{
    struct pk_net_sock s;
    cr_assert_eq(pk_net_parse_inet("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 "
                                   "00:00000000 00000000  1000        0 12345 1 "
                                   "0000000023ce3799 100 0 0 10 0",
                                   PK_FD_TCP, &s),
                 0);
    cr_assert_str_eq(s.local, "127.0.0.1:8080");
    cr_assert_str_eq(s.remote, "");
    cr_assert_str_eq(s.state, "LISTEN");
    cr_assert_eq(s.inode, 12345);
    cr_assert_eq(pk_net_parse_inet("  12: 0100007F:D8F4 0100007F:1F90 01 00000000:00000000 "
                                   "00:00000000 00000000  1000        0 999 1 0 20 4 30 10 -1",
                                   PK_FD_TCP, &s),
                 0);
    cr_assert_str_eq(s.remote, "127.0.0.1:8080");
    cr_assert_str_eq(s.state, "ESTABLISHED");
}

Test(net, tcp_v6_and_udp)
{
    struct pk_net_sock s;
    cr_assert_eq(pk_net_parse_inet("   0: 00000000000000000000000001000000:01BB "
                                   "00000000000000000000000000000000:0000 0A 00000000:00000000 "
                                   "00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0",
                                   PK_FD_TCP6, &s),
                 0);
    cr_assert_str_eq(s.local, "[::1]:443");
    cr_assert_eq(s.inode, 4242);
    cr_assert_eq(pk_net_parse_inet(" 1234: 0100007F:0035 00000000:0000 07 00000000:00000000 "
                                   "00:00000000 00000000   101        0 555 2 0 0",
                                   PK_FD_UDP, &s),
                 0);
    cr_assert_str_eq(s.state, "UNCONN");
    cr_assert_eq(s.kind, PK_FD_UDP);
}

Test(net, refuses_headers_and_truncated_lines)
{
    struct pk_net_sock s;
    cr_assert_eq(pk_net_parse_inet("  sl  local_address rem_address   st tx_queue rx_queue tr "
                                   "tm->when retrnsmt   uid  timeout inode",
                                   PK_FD_TCP, &s),
                 -1);
    cr_assert_eq(
        pk_net_parse_inet("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000", PK_FD_TCP, &s),
        -1);
    cr_assert_eq(pk_net_parse_inet("   0: 0100007F:1F9 00000000:0000 0A", PK_FD_TCP, &s), -1);
    cr_assert_eq(pk_net_parse_inet("   0: 0100007F", PK_FD_TCP6, &s), -1);
    cr_assert_eq(pk_net_parse_unix("Num       RefCount Protocol Flags    Type St Inode Path", &s),
                 -1);
    cr_assert_eq(pk_net_parse_netlink("sk               Eth Pid        Groups   Rmem     Wmem", &s),
                 -1);
}

Test(net, unix_lines)
{
    struct pk_net_sock s;
    cr_assert_eq(pk_net_parse_unix("0000000091a5a37f: 00000002 00000000 00010000 0001 01 12345 "
                                   "/run/my app.sock",
                                   &s),
                 0);
    cr_assert_str_eq(s.local, "/run/my app.sock");
    cr_assert_str_eq(s.state, "LISTEN");
    cr_assert_eq(s.inode, 12345);
    cr_assert_eq(
        pk_net_parse_unix("0000000091a5a37f: 00000003 00000000 00000000 0001 03   648", &s), 0);
    cr_assert_str_eq(s.local, "");
    cr_assert_str_eq(s.state, "CONNECTED");
    cr_assert_eq(s.inode, 648);
}

Test(net, netlink_line)
{
    struct pk_net_sock s;
    cr_assert_eq(pk_net_parse_netlink("0000000081002edf 0   4242       00000000 0        0        "
                                      "0     2        0        565     ",
                                      &s),
                 0);
    cr_assert_eq(s.inode, 565);
    cr_assert_eq(s.kind, PK_FD_NETLINK);
}
