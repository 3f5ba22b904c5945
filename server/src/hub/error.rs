use app::protocol::{ErrorCode, InputError};

/// Why the hub refused a client's request. Each maps to a wire [`ErrorCode`]
/// and a message the UI can show as is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("choose a nickname before joining a room")]
    NicknameRequired,
    #[error("you are not in a room")]
    NotInRoom,
    #[error("that peer is not in your room")]
    PeerNotInRoom,
    #[error("this room is full ({0} people at most)")]
    RoomFull(usize),
    #[error("{0} is already sharing their screen; one at a time")]
    ShareTaken(String),
    #[error("messages are limited to {0} characters here")]
    ChatTooLong(usize),
    #[error("this room needs a passcode")]
    PasscodeRequired,
    #[error("that passcode is not right")]
    WrongPasscode,
    #[error("the host has locked this room")]
    RoomLocked,
    #[error("only the host can do that")]
    NotHost,
    #[error("this room is on servers that cannot be reached right now; try again in a moment")]
    Unavailable,
    #[error("this server has as many rooms open as it allows ({0}); join an existing one or try later")]
    TooManyRooms(usize),
    #[error("this room's call does not go through the server")]
    NotSfuRoom,
    #[error("too many people for a browser-to-browser call ({0} at most); the call stays routed through the server")]
    TooManyForMesh(usize),
    #[error("this server is full right now: try again in a little while")]
    ServerFull,
    #[error("that is a lot of reactions: wait a moment before the next")]
    TooManyReactions,
    #[error("your hand went up and down a lot: wait a moment")]
    TooManyHandChanges,
}

impl HubError {
    /// A join refused for this got past the passcode: the hub checks a
    /// passcode before the room's size and the server's room count.
    pub fn passed_passcode(&self) -> bool {
        matches!(self, HubError::RoomFull(_) | HubError::TooManyRooms(_) | HubError::ServerFull)
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            HubError::Input(e) => e.code(),
            HubError::NicknameRequired => ErrorCode::NicknameRequired,
            HubError::NotInRoom => ErrorCode::NotInRoom,
            HubError::PeerNotInRoom => ErrorCode::PeerNotInRoom,
            HubError::RoomFull(_) => ErrorCode::RoomFull,
            HubError::ShareTaken(_) => ErrorCode::ShareTaken,
            HubError::ChatTooLong(_) => ErrorCode::ChatTooLong,
            HubError::TooManyRooms(_) => ErrorCode::TooManyRooms,
            HubError::PasscodeRequired => ErrorCode::PasscodeRequired,
            HubError::WrongPasscode => ErrorCode::WrongPasscode,
            HubError::RoomLocked => ErrorCode::RoomLocked,
            HubError::NotHost => ErrorCode::NotHost,
            HubError::Unavailable => ErrorCode::Unavailable,
            HubError::NotSfuRoom => ErrorCode::NotSfuRoom,
            HubError::TooManyForMesh(_) => ErrorCode::TooManyForMesh,
            HubError::ServerFull => ErrorCode::ServerFull,
            HubError::TooManyReactions | HubError::TooManyHandChanges => ErrorCode::RateLimited,
        }
    }
}
