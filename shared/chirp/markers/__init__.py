"""Where a reader stopped reading each timeline (Mastodon's markers): apps save it as the reader scrolls and read it
back on another device, to open where the reader left off."""
