//! LiteFS support for `repo-core`'s repository: primary tracking, the gRPC forwarding
//! protocol, its server, and the layer that forwards a replica's writes to the primary.
