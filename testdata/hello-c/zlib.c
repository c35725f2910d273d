/* Links the target's zlib found through <triple>-pkg-config, and proves it
 * works by compressing and restoring a string. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    const char *text = "hello from zlib, hello from zlib, hello from zlib";
    unsigned char packed[256], unpacked[256];
    uLongf packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    if (compress(packed, &packed_len, (const Bytef *)text, strlen(text)) != Z_OK ||
        uncompress(unpacked, &unpacked_len, packed, packed_len) != Z_OK ||
        unpacked_len != strlen(text) || memcmp(unpacked, text, unpacked_len) != 0) {
        fprintf(stderr, "zlib round trip failed\n");
        return 1;
    }
    printf("zlib %s: %lu bytes -> %lu bytes -> round trip ok\n", zlibVersion(),
           (unsigned long)strlen(text), (unsigned long)packed_len);
    return 0;
}
