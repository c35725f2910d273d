/* A libc-free static program (no loader, no DT_NEEDED) for targets where we
 * want a static binary without linking a whole libc into the fixture. */
void _start(void) {
    for (;;) {
    }
}
