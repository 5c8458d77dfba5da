//! A few threads for CPU-heavy work (password hashing, photo decoding). Argon2id takes 19 MiB
//! per call and a 12-megapixel photo ~150 MiB: on a large blocking pool every thread's
//! allocator arena keeps its own peak (1 GB of RSS was measured under a login benchmark). One
//! thread per core bounds memory and is as fast, since the work is CPU-bound anyway.

use std::sync::{Arc, LazyLock, Mutex, mpsc};

type Work = Box<dyn FnOnce() + Send>;

static POOL: LazyLock<Mutex<mpsc::Sender<Work>>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Work>();
    let rx = Arc::new(Mutex::new(rx));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..threads {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("cpu-{i}"))
            .spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job, not while running it.
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        // A panic ends that one job (its caller sees the result dropped and
                        // answers 500); the thread lives on for the next.
                        Ok(job) => {
                            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err()
                            {
                                tracing::error!("a CPU job panicked; its thread carries on");
                            }
                        }
                        Err(_) => return,
                    }
                }
            });
        drop(spawned);
    }
    Mutex::new(tx)
});

/// Runs `f` on the CPU threads and awaits its result.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Work = Box::new(move || {
        let _ = tx.send(f());
    });
    POOL.lock()
        .map_err(|_| anyhow::anyhow!("cpu pool poisoned"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("cpu pool stopped"))?;
    rx.await.map_err(|_| anyhow::anyhow!("cpu work dropped"))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_panic_costs_one_job_not_a_thread() {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for _ in 0..threads * 3 {
            let r = super::run(|| -> u8 { panic!("hostile input") }).await;
            assert!(r.is_err());
        }
        assert_eq!(super::run(|| 7).await.unwrap(), 7);
    }
}
