//! One attempt of a check against a real server. (To be written.)
