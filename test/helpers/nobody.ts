// Root reads every file whatever its mode, so a test of "permission denied" running as root runs the code under
// test as this unprivileged user instead, for whom a mode means what it says. Whatever it must reach (a temp
// folder, a binary) has to be readable by others.

export const NOBODY = { uid: 65534, gid: 65534 } as const;
