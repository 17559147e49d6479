{
  "targets": [
    {
      "target_name": "original_destination",
      "sources": ["native/original-destination.c"]
    }
  ]
}
