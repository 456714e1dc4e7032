//! Frames in and out: a folder of images (sorted by name, no external program), a video file or
//! a camera read through the `ffmpeg` program (raw `rgb24` frames on its stdout, size and frame
//! rate from `ffprobe`), and rendered frames written as a folder of JPEG files or encoded to a
//! video by `ffmpeg`.

use crate::error::TrackError;
use image::RgbImage;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

/// File extensions read as images (case-insensitive).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp"];
/// File extensions `track_save` encodes as a video.
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "avi", "mkv", "mov", "webm"];
/// Frame rate assumed when a video does not declare one.
const DEFAULT_FPS: f64 = 30.0;
/// What to do without ffmpeg.
const FFMPEG_HINT: &str =
    "install ffmpeg, or extract the frames to a folder of images and pass the folder as `input`";

fn has_extension(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The image files of a folder, sorted by name.
pub fn image_files(dir: &Path) -> Result<Vec<PathBuf>, TrackError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TrackError::io("read the folder", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| TrackError::io("read the folder", dir, e))?
            .path();
        if path.is_file() && has_extension(&path, IMAGE_EXTENSIONS) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// 0-based index.
    pub index: usize,
    /// Seconds from the start of the input.
    pub time: f64,
    /// The file name, for frame folders.
    pub name: Option<String>,
    /// The pixels.
    pub image: RgbImage,
}

/// A running ffmpeg decoder.
#[derive(Debug)]
struct Decoder {
    child: Child,
    stdout: BufReader<ChildStdout>,
    width: u32,
    height: u32,
    /// A camera: frames are timed by the wall clock from the first one.
    live: bool,
    started: Option<Instant>,
}

#[derive(Debug)]
enum Source {
    Folder(Vec<PathBuf>),
    Pipe(Decoder),
}

/// Frames of a folder, a video file or a camera.
#[derive(Debug)]
pub struct FrameSource {
    source: Source,
    path: PathBuf,
    fps: f64,
    next: usize,
}

impl FrameSource {
    /// A folder of frames (`fps` frames per second) or a video file (through ffmpeg).
    pub fn open(input: &Path, folder_fps: f64) -> Result<Self, TrackError> {
        if input.is_dir() {
            Self::folder(input, folder_fps)
        } else if input.is_file() {
            Self::video(input)
        } else {
            Err(TrackError::io(
                "open",
                input,
                std::io::Error::new(ErrorKind::NotFound, "no such file or folder"),
            ))
        }
    }

    /// The images of `dir`, sorted by name, shown at `fps` frames per second.
    pub fn folder(dir: &Path, fps: f64) -> Result<Self, TrackError> {
        let files = image_files(dir)?;
        if files.is_empty() {
            return Err(TrackError::Empty {
                path: dir.to_path_buf(),
                what: "images (jpg, jpeg, png, bmp)",
            });
        }
        Ok(Self {
            source: Source::Folder(files),
            path: dir.to_path_buf(),
            fps,
            next: 0,
        })
    }

    /// A video file decoded by ffmpeg.
    pub fn video(path: &Path) -> Result<Self, TrackError> {
        let probe = probe(path, &[])?;
        let decoder = decode(path, &[], probe.width, probe.height, false)?;
        Ok(Self {
            source: Source::Pipe(decoder),
            path: path.to_path_buf(),
            fps: probe.fps,
            next: 0,
        })
    }

    /// A V4L2 camera (`/dev/video0`, ...) read through ffmpeg; frame times are wall-clock
    /// times since the first frame.
    pub fn camera(device: &Path) -> Result<Self, TrackError> {
        if !cfg!(target_os = "linux") {
            return Err(TrackError::Config {
                key: "track_source",
                message:
                    "camera: fdfat-rs reads cameras through ffmpeg's v4l2 input, on Linux only; \
                          record a video and track the file instead"
                        .into(),
            });
        }
        let format = ["-f", "v4l2"];
        let probe = probe(device, &format)?;
        let decoder = decode(device, &format, probe.width, probe.height, true)?;
        Ok(Self {
            source: Source::Pipe(decoder),
            path: device.to_path_buf(),
            fps: probe.fps,
            next: 0,
        })
    }

    /// Frames per second.
    pub fn fps(&self) -> f64 {
        self.fps
    }

    /// Number of frames, when known in advance (frame folders).
    pub fn len_hint(&self) -> Option<usize> {
        match &self.source {
            Source::Folder(files) => Some(files.len()),
            Source::Pipe(_) => None,
        }
    }

    /// The next frame, or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, TrackError> {
        let index = self.next;
        let mut time = index as f64 / self.fps;
        let (image, name) = match &mut self.source {
            Source::Folder(files) => {
                let Some(path) = files.get(index) else {
                    return Ok(None);
                };
                let image = fdfat_data::read_rgb(path).map_err(|e| TrackError::Image {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                (image, name)
            }
            Source::Pipe(decoder) => {
                let Some(image) = decoder.read(&self.path)? else {
                    return Ok(None);
                };
                if decoder.live {
                    time = decoder
                        .started
                        .get_or_insert_with(Instant::now)
                        .elapsed()
                        .as_secs_f64();
                }
                (image, None)
            }
        };
        self.next += 1;
        Ok(Some(Frame {
            index,
            time,
            name,
            image,
        }))
    }
}

/// Size and frame rate of a video stream.
struct Probe {
    width: u32,
    height: u32,
    fps: f64,
}

fn missing(program: &'static str, purpose: String, e: &std::io::Error) -> TrackError {
    TrackError::MissingProgram {
        program,
        purpose,
        reason: e.to_string(),
        hint: FFMPEG_HINT,
    }
}

/// Reads the first video stream's size and frame rate with ffprobe.
fn probe(path: &Path, input_format: &[&str]) -> Result<Probe, TrackError> {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(input_format)
        .args([
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,avg_frame_rate,r_frame_rate",
            "-of",
            "default=noprint_wrappers=1",
        ])
        .arg(path)
        .output()
        .map_err(|e| missing("ffprobe", format!("reading `{}`", path.display()), &e))?;
    let video_err = |message: String| TrackError::Video {
        program: "ffprobe",
        path: path.to_path_buf(),
        message,
    };
    if !out.status.success() {
        return Err(video_err(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    let dim = |key: &str| {
        value(key)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&v| v > 0)
    };
    let (Some(width), Some(height)) = (dim("width"), dim("height")) else {
        return Err(video_err(format!(
            "no video stream with a size found (ffprobe said: {})",
            text.trim()
        )));
    };
    let fps = [value("avg_frame_rate"), value("r_frame_rate")]
        .into_iter()
        .flatten()
        .find_map(parse_rate)
        .unwrap_or(DEFAULT_FPS);
    Ok(Probe { width, height, fps })
}

/// A frame rate written `num/den` or as a number; `None` when not a positive finite rate.
fn parse_rate(text: &str) -> Option<f64> {
    let rate = match text.split_once('/') {
        Some((n, d)) => n.trim().parse::<f64>().ok()? / d.trim().parse::<f64>().ok()?,
        None => text.trim().parse().ok()?,
    };
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

/// Starts ffmpeg decoding `path` to raw RGB frames on its stdout.
fn decode(
    path: &Path,
    input_format: &[&str],
    width: u32,
    height: u32,
    live: bool,
) -> Result<Decoder, TrackError> {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin"])
        .args(if live {
            &[][..]
        } else {
            &["-noautorotate"][..]
        })
        .args(input_format)
        .arg("-i")
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| missing("ffmpeg", format!("reading `{}`", path.display()), &e))?;
    let stdout = child.stdout.take().ok_or_else(|| TrackError::Video {
        program: "ffmpeg",
        path: path.to_path_buf(),
        message: "no output pipe".into(),
    })?;
    Ok(Decoder {
        child,
        stdout: BufReader::with_capacity(1 << 20, stdout),
        width,
        height,
        live,
        started: None,
    })
}

impl Decoder {
    /// The next frame, or `None` when ffmpeg ended cleanly.
    fn read(&mut self, path: &Path) -> Result<Option<RgbImage>, TrackError> {
        let video_err = |message: String| TrackError::Video {
            program: "ffmpeg",
            path: path.to_path_buf(),
            message,
        };
        let mut data = vec![0u8; self.width as usize * self.height as usize * 3];
        let mut filled = 0;
        while filled < data.len() {
            match self.stdout.read(&mut data[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(video_err(e.to_string())),
            }
        }
        if filled == data.len() {
            return RgbImage::from_raw(self.width, self.height, data)
                .map(Some)
                .ok_or_else(|| video_err("frame size mismatch".into()));
        }
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            // best effort: the message only decorates the error below
            let _ = pipe.read_to_string(&mut stderr);
        }
        let status = self.child.wait().map_err(|e| video_err(e.to_string()))?;
        if !status.success() {
            return Err(video_err(format!("{status}: {}", stderr.trim())));
        }
        if filled > 0 {
            return Err(video_err(format!(
                "the stream ended inside a frame ({filled} of {} bytes)",
                data.len()
            )));
        }
        Ok(None)
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // stops a decoder still running when reading ends early; it may already have exited
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where rendered frames go.
#[derive(Debug)]
pub enum FrameSink {
    /// One JPEG file per frame in a folder.
    Folder(PathBuf),
    /// A video encoded by ffmpeg.
    Video {
        /// The encoder.
        child: Child,
        /// Its input pipe.
        stdin: Option<ChildStdin>,
        /// The video file.
        path: PathBuf,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
    },
}

impl FrameSink {
    /// A video file when `path` has a video extension (`.mp4`, `.avi`, `.mkv`, `.mov`,
    /// `.webm`), else a folder of frames (created when missing).
    pub fn create(path: &Path, width: u32, height: u32, fps: f64) -> Result<Self, TrackError> {
        if !has_extension(path, VIDEO_EXTENSIONS) {
            std::fs::create_dir_all(path).map_err(|e| TrackError::io("create", path, e))?;
            return Ok(Self::Folder(path.to_path_buf()));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| TrackError::io("create", parent, e))?;
        }
        let mut child = Command::new("ffmpeg")
            .args([
                "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
            ])
            .arg(format!("{width}x{height}"))
            .arg("-r")
            .arg(format!("{fps}"))
            .args([
                "-i",
                "-",
                "-vf",
                "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                missing(
                    "ffmpeg",
                    format!("writing the video `{}`", path.display()),
                    &e,
                )
            })?;
        let stdin = child.stdin.take();
        Ok(Self::Video {
            child,
            stdin,
            path: path.to_path_buf(),
            width,
            height,
        })
    }

    /// Writes frame `index`.
    pub fn write(&mut self, index: usize, image: &RgbImage) -> Result<(), TrackError> {
        match self {
            Self::Folder(dir) => {
                let path = dir.join(format!("{index:06}.jpg"));
                image.save(&path).map_err(|e| TrackError::Image {
                    path,
                    message: e.to_string(),
                })
            }
            Self::Video {
                stdin,
                path,
                width,
                height,
                ..
            } => {
                if image.dimensions() != (*width, *height) {
                    return Err(TrackError::Video {
                        program: "ffmpeg",
                        path: path.clone(),
                        message: format!(
                            "frame {index} is {}x{}, the video is {width}x{height}",
                            image.width(),
                            image.height()
                        ),
                    });
                }
                let pipe = stdin.as_mut().ok_or_else(|| TrackError::Video {
                    program: "ffmpeg",
                    path: path.clone(),
                    message: "the encoder's input is closed".into(),
                })?;
                pipe.write_all(image.as_raw())
                    .map_err(|e| TrackError::io("write the video", path.clone(), e))
            }
        }
    }

    /// Finishes the output (waits for the encoder).
    pub fn finish(self) -> Result<(), TrackError> {
        let Self::Video {
            child, stdin, path, ..
        } = self
        else {
            return Ok(());
        };
        drop(stdin);
        let out = child
            .wait_with_output()
            .map_err(|e| TrackError::io("finish the video", path.clone(), e))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(TrackError::Video {
                program: "ffmpeg",
                path,
                message: format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_fractions_or_numbers() {
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("25"), Some(25.0));
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("abc"), None);
    }

    #[test]
    fn folder_frames_are_sorted_and_timed_by_the_frame_rate() {
        let dir = tempfile::tempdir().unwrap();
        for (name, shade) in [("b.png", 20u8), ("a.png", 10), ("c.jpg", 30)] {
            RgbImage::from_pixel(4, 3, image::Rgb([shade; 3]))
                .save(dir.path().join(name))
                .unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not a frame").unwrap();
        let mut source = FrameSource::open(dir.path(), 10.0).unwrap();
        assert_eq!(source.len_hint(), Some(3));
        let mut names = Vec::new();
        while let Some(frame) = source.next_frame().unwrap() {
            assert!((frame.time - frame.index as f64 / 10.0).abs() < 1e-12);
            names.push(frame.name.unwrap());
        }
        assert_eq!(names, ["a.png", "b.png", "c.jpg"]);
        let empty = tempfile::tempdir().unwrap();
        let err = FrameSource::open(empty.path(), 10.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no images"), "{err}");
        let err = FrameSource::open(&dir.path().join("missing.mp4"), 10.0).unwrap_err();
        assert!(err.to_string().contains("missing.mp4"), "{err}");
    }

    #[test]
    fn folder_sink_writes_numbered_frames() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rendered");
        let mut sink = FrameSink::create(&out, 4, 4, 30.0).unwrap();
        sink.write(7, &RgbImage::new(4, 4)).unwrap();
        sink.finish().unwrap();
        assert!(out.join("000007.jpg").is_file());
    }
}
