//! Export rendering with ffmpeg (being written by the render owner).
