//! Cameras and microphones as plain values: what exists, and why one
//! could not be used.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaProblem {
    /// The person or the browser refused camera/microphone access.
    Denied,
    /// No camera or microphone exists.
    NoDevice,
    Other(String),
}

impl MediaProblem {
    pub fn message(&self) -> String {
        match self {
            MediaProblem::Denied => {
                "Noom can't use your camera or microphone: access was blocked. Click the camera \
                 icon in the address bar, allow both, then try again; or join without them."
                    .into()
            }
            MediaProblem::NoDevice => "No camera or microphone was found.".into(),
            MediaProblem::Other(e) => format!("The camera or microphone could not start: {e}"),
        }
    }
}
