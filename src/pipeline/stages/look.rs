//! The look follows the references: when the brief chose none, the template's look is
//! kept or changed by what the analysed references call for (`domain::followed_look`),
//! and its `.cube` copied into the store. Only the final reads it: nothing is paid for.

use std::sync::Arc;

use crate::domain::{followed_look, Event, SessionState};
use crate::pipeline::{Pipeline, PipelineError, Recorder};

pub async fn follow_look(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let Some(choice) = followed_look(st) else { return Ok(()) };
    let (name, cube) = p.stored_look(&choice.name)?;
    rec.record(Event::LookFollowed { name, cube, why: choice.why }).await?;
    Ok(())
}
