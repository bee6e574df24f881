//! The cost preview of a message: what it will do and cost before anything
//! is sent (being written).
