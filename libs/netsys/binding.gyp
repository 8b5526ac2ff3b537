{
  "targets": [
    {
      "target_name": "netsys",
      "sources": [
        "native/netsys.cc",
        "native/errors.cc",
        "native/netns.cc",
        "native/tcp.cc",
        "native/seqpacket.cc",
        "native/poller.cc"
      ],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-fno-rtti"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
