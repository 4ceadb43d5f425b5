/* Test setup only, never shipped: Rust's standard library for Windows imports ProcessPrng
 * from bcryptprimitives.dll, which Wine 8 does not provide. This DLL exports it on top of
 * advapi32's RtlGenRandom (exported as SystemFunction036), so Windows test executables start
 * under Wine. scripts/cross/wine-run.sh builds it and puts it beside each executable. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
