//! `/v1/jobs/{id}`: background imports (issue 13).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use voxport_domain::{Voxport, job::JobState, permission::Permission, ports::Store};

use crate::{
    extract::{Auth, Query},
    problem::{ApiError, Problem},
    responses::{BadQuery, Forbidden, Unauthenticated},
    views::ImportJobView,
};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobParams {
    /// The page of row errors, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub errors_page: Option<u64>,
    /// Row errors per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub errors_per_page: Option<u64>,
}

/// Show a job
///
/// Where a background import stands: its state, rows done and failed, one
/// page of its row errors, and what it created. Needs `users:write`.
#[utoipa::path(
    get, path = "/v1/jobs/{id}", tag = "users", operation_id = "get_job",
    params(("id" = Uuid, Path, description = "The job's id"), JobParams),
    responses(
        (status = 200, description = "The job", body = ImportJobView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn get_job<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(params): Query<JobParams>,
) -> Result<web::Json<ImportJobView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let page = super::page_request(params.errors_page, params.errors_per_page)?;
    let job = app.import_job(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("job"))?;
    Ok(web::Json(ImportJobView::new(&job, page)))
}

/// Cancel a job
///
/// A job that has not finished stops: a queued one never starts; a
/// running one stops at its next commit. A `per_row` import keeps the
/// chunks it committed (the chunk being written may still commit first:
/// the job's counts say what was written), an `all_or_nothing` one writes
/// nothing. A finished job, or one whose rows are all written and which is
/// only ending, is 409 `job_finished`. Needs `users:write`.
#[utoipa::path(
    delete, path = "/v1/jobs/{id}", tag = "users", operation_id = "cancel_job",
    params(("id" = Uuid, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job, cancelled", body = ImportJobView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`job_finished`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn cancel_job<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let job =
        app.cancel_import_job(actor, id.into_inner(), Utc::now()).await?.ok_or_else(|| ApiError::not_found("job"))?;
    match job.state {
        JobState::Cancelled => {}
        JobState::Queued | JobState::Running => {
            return Err(ApiError::conflict("job_finished", "The job has written its rows and is ending."));
        }
        ended => {
            return Err(ApiError::conflict("job_finished", format!("The job already ended ({}).", ended.as_str())));
        }
    }
    Ok(HttpResponse::Ok().json(ImportJobView::new(&job, super::page_request(None, None)?)))
}
