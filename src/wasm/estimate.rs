//! `session.estimate(text, { files })`: the cost preview, from
//! [`crate::core::estimate`] (being written).
